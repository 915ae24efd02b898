"""One learning-rate schedule; each trainer keeps the floor its runs were made with."""

from __future__ import annotations

import pytest

from train.lr_schedule import warmup_cosine


def test_warmup_then_cosine_down_to_the_floor():
    assert warmup_cosine(0, 1.0, 10, 110, 0.05) == pytest.approx(0.1)
    assert warmup_cosine(9, 1.0, 10, 110, 0.05) == pytest.approx(1.0)
    assert warmup_cosine(60, 1.0, 10, 110, 0.05) == pytest.approx(0.525)  # half way: the mean of peak and floor
    assert warmup_cosine(110, 1.0, 10, 110, 0.05) == pytest.approx(0.05)
    assert warmup_cosine(500, 1.0, 10, 110, 0.05) == pytest.approx(0.05)  # flat after the end


def test_each_trainer_keeps_its_floor():
    from train.config import TrainConfig
    from train.loop import lr_at
    from train.teachers.singletask.config import SingleTaskConfig as TeacherConfig
    from train.teachers.singletask.training import lr_at as teacher_lr_at

    stage = TrainConfig()
    assert lr_at(stage.steps, stage) == pytest.approx(0.05 * stage.lr)
    teacher = TeacherConfig(task="tag")
    assert teacher_lr_at(teacher.max_steps, teacher) == pytest.approx(0.02 * teacher.lr)
