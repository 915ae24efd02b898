"""The shared metrics on hand-made cases whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from train.evaluation import metrics


def test_wer_counts_edits_over_reference_words() -> None:
    assert metrics.word_error_rate(["A B C D"], ["A X C"]) == pytest.approx(0.5)  # 1 sub + 1 del
    assert metrics.word_error_rate(["A B", "C D"], ["A B", "C D E"]) == pytest.approx(0.25)  # 1 ins / 4
    assert metrics.word_error_rate(["HE OWES TWENTY"], ["He owes 20."]) == 0.0  # normalised, numbers spelled


def test_normalize_text_follows_the_corpus_convention() -> None:
    assert metrics.normalize_text("Don't stop, 1,200 times!") == "DON'T STOP ONE THOUSAND TWO HUNDRED TIMES"


def test_map_perfect_reversed_and_ignores_classes_without_positives() -> None:
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    assert metrics.mean_average_precision(y, np.array([[.9, .1, .5], [.2, .8, .5], [.7, .3, .5]])) == 1.0
    # class 0 positives ranked last: AP = (1/2 + 2/3) / 2; class 1 ranked last of 3: AP = 1/3
    value, classes = metrics.mean_average_precision(
        y, np.array([[.1, .9, 0], [.8, .2, 0], [.3, .7, 0]]), return_classes=True)
    assert classes == 2
    assert value == pytest.approx(((1 / 2 + 2 / 3) / 2 + 1 / 3) / 2)


def test_eer_known_cases() -> None:
    assert metrics.eer([1, 1, 0, 0], [0.9, 0.8, 0.1, 0.2]) == 0.0
    assert metrics.eer([1, 1, 0, 0], [0.1, 0.2, 0.9, 0.8]) == 1.0
    assert metrics.eer([1, 1, 0, 0], [0.9, 0.1, 0.8, 0.2]) == pytest.approx(0.5)
    rng = np.random.default_rng(0)  # two unit Gaussians 2 apart: EER = Phi(-1) = 0.1587
    labels = np.r_[np.ones(20000), np.zeros(20000)]
    scores = np.r_[rng.normal(1, 1, 20000), rng.normal(-1, 1, 20000)]
    assert metrics.eer(labels, scores) == pytest.approx(0.1587, abs=0.006)


def test_eer_from_cosine_trials_and_det_plot(tmp_path) -> None:
    emb = {"a1": np.array([1.0, 0.1]), "a2": np.array([0.9, 0.0]), "b1": np.array([0.0, 1.0])}
    trials = [(1, "a1", "a2"), (0, "a1", "b1"), (0, "a2", "b1")]
    assert metrics.eer_from_trials(trials, emb) == 0.0
    (tmp_path / "t.txt").write_text("1 a1 a2\n0 a1 b1\n")
    assert metrics.read_trials(tmp_path / "t.txt") == [(1, "a1", "a2"), (0, "a1", "b1")]
    png = metrics.plot_det({"x": (np.r_[1, 1, 0, 0], np.r_[.9, .3, .4, .1])}, tmp_path / "det.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
