"""What makes training faster and CTC learn better: duration bucketing, prefetch, SpecAugment, speed
perturbation, a length curriculum, and the `python -m train.bench` command that measures them."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from train.augment import SpecAugment, change_speed
from train.batches import TaskSampler
from train.config import TrainConfig
from train.loop import Trainer, repeat_by_system

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class FakeCut:
    id: str
    duration: float


def cuts(n: int = 200) -> list[FakeCut]:
    g = torch.Generator().manual_seed(0)
    return [FakeCut(f"c{i:04d}", float(1 + 9 * torch.rand(1, generator=g))) for i in range(n)]


def padding(batches) -> float:
    real = sum(c.duration for b in batches for c in b)
    padded = sum(len(b) * max(c.duration for c in b) for b in batches)
    return 1 - real / padded


@pytest.mark.parametrize("bucket_batches", [1, 8])
def test_sampler_sees_every_cut_once_per_pass(bucket_batches):
    pool = cuts()
    sampler = TaskSampler(pool, 30.0, seed=1, bucket_batches=bucket_batches)
    seen: list[str] = []
    while len(seen) < len(pool):
        seen += [c.id for c in sampler.next()]
    assert sorted(seen[: len(pool)]) == sorted(c.id for c in pool)  # no cut twice before all are seen


def test_bucketing_cuts_padding_and_resumes_exactly():
    pool = cuts()
    plain_sampler, bucketed = TaskSampler(pool, 30.0, seed=1), TaskSampler(pool, 30.0, seed=1, bucket_batches=8)
    plain = [plain_sampler.next() for _ in range(40)]
    buckets = [bucketed.next() for _ in range(40)]
    assert padding(buckets) < 0.5 * padding(plain)
    state = bucketed.state_dict()
    ahead = [[c.id for c in bucketed.next()] for _ in range(10)]
    again = TaskSampler(pool, 30.0, seed=1, bucket_batches=8)
    again.load_state_dict(state)
    assert [[c.id for c in again.next()] for _ in range(10)] == ahead


def test_curriculum_limit_keeps_long_cuts_out():
    sampler = TaskSampler(cuts(), 30.0, seed=2, bucket_batches=4)
    for _ in range(10):
        assert all(c.duration <= 4.0 for c in sampler.next(max_seconds=4.0))


def test_spec_augment_masks_within_its_limits_and_repeats_for_a_seed():
    feats = torch.randn(3, 500, 80)
    aug = SpecAugment()
    a = aug(feats, torch.Generator().manual_seed(5))
    b = aug(feats, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and not torch.equal(a, feats)
    masked = (a != feats).float().mean().item()
    assert 0.0 < masked < 0.5  # some bands and stretches, never most of the utterance


def test_spec_augment_tasks_picks_the_batches_it_masks():
    cfg = TrainConfig.load(None, ["spec_augment=true", "spec_augment_tasks=[asr,sv]", "speed_perturb=[0.9,1.1]"])
    samplers = {t: TaskSampler(cuts(), 8.0, seed=0) for t in ("asr", "at", "sv")}
    trainer = SimpleNamespace(cfg=cfg, samplers=samplers, task_rng=random.Random(0))
    trainer._pick_task = lambda: Trainer._pick_task(trainer)
    plans = [Trainer._draw(trainer, step) for step in range(60)]
    assert {p["task"] for p in plans} == {"asr", "at", "sv"}
    for plan in plans:
        assert ("augment_seed" in plan) == (plan["task"] != "at"), plan["task"]
        assert ("speed" in plan) == (plan["task"] == "asr")
    with pytest.raises(ValueError, match="spec_augment_tasks must name asr, at or sv"):
        TrainConfig.load(None, ["spec_augment_tasks=[asr,kws]"])
    assert TrainConfig.load(None, ["lr=5e-4"]).lr == 5e-4  # YAML 1.1 reads 5e-4 as a string
    assert TrainConfig.load(None, ["init_from="]).init_from == ""  # YAML reads the empty value as null


def test_system_repeats_draw_the_rarer_voices_more_often_per_pass():
    def speech(cid: str, system: str):
        return SimpleNamespace(id=cid, duration=2.0, supervisions=[SimpleNamespace(custom={"system": system})])
    corpus = [speech(f"h{i}", "hibari") for i in range(8)] + [speech(f"k{i}", "kokoro") for i in range(2)]
    grown = repeat_by_system(corpus, {"kokoro": 3})
    assert sorted(c.id for c in grown) == sorted([f"h{i}" for i in range(8)] + [f"k{i}" for i in range(2)] * 3)
    sampler = TaskSampler(grown, 4.0, seed=0)  # one pass = 14 draws: every kokoro cut 3 times
    drawn = [c.id for _ in range(7) for c in sampler.next()]
    assert sorted(drawn) == sorted(c.id for c in grown)
    assert repeat_by_system(corpus, {}) is corpus
    with pytest.raises(ValueError, match=r"names \['kokro'\], which are not synthesis systems"):
        repeat_by_system(corpus, {"kokro": 2})
    assert repeat_by_system(corpus, {"piper": 3}) == corpus  # a system this corpus lacks: nothing to repeat
    assert TrainConfig.load(None, ["system_repeats={kokoro: 2}"]).system_repeats == {"kokoro": 2}
    for bad in ("system_repeats={kokoro: 0}", "system_repeats={kokoro: 1.5}", "system_repeats=abc"):
        with pytest.raises(ValueError, match="system_repeats must map systems to whole numbers"):
            TrainConfig.load(None, [bad])


def test_speed_perturbation_changes_length_by_the_factor():
    audio = torch.zeros(2, 16000)
    audio[0, :8000] = torch.randn(8000)
    out, lengths = change_speed(audio, torch.tensor([8000, 16000]), 1.1)
    assert abs(out.shape[1] - 16000 / 1.1) <= 1
    assert lengths.tolist() == [round(8000 / 1.1), round(16000 / 1.1)]
    same, n = change_speed(audio, torch.tensor([8000, 16000]), 1.0)
    assert same is audio and n.tolist() == [8000, 16000]


def test_train_bench_prints_side_by_side_ratios(ci_corpus, tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "train.bench", "--config", "train/configs/tiny.yaml",
                           "--corpus", str(ci_corpus), "--steps", "1", "--rounds", "1", "--warmup", "0",
                           "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "audio-s/s" in done.stdout and "+bf16" in done.stdout
    import json

    rows = json.loads(out.read_text())["variants"]
    assert rows["before"]["vs_first"] == 1.0 and all(r["audio_s_per_s"] > 0 for r in rows.values())
