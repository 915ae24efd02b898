"""Batches for supervised (stage 2) and distillation (stage 1) training, from lhotse cuts.

Audio is loaded raw (16 kHz float32): the model's front-end computes fbank in-graph, so training
sees exactly the features the exported model computes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from train.data import layout as corpus_layout

MANIFESTS = {  # task -> cuts file in the corpus (train split)
    "asr": corpus_layout.manifest_name("speech", "train"),
    "sv": corpus_layout.manifest_name("speech", "train"),
    "at": corpus_layout.manifest_name("events", "train"),
}


@dataclass
class Batch:
    task: str
    audio: torch.Tensor  # (B, N) float32
    num_samples: torch.Tensor  # (B,)
    targets: dict  # task-specific: tokens/lengths, multi-hot labels, speaker ids

    def to(self, device: torch.device) -> "Batch":
        move = lambda v: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v  # noqa: E731
        return Batch(self.task, move(self.audio), move(self.num_samples), {k: move(v) for k, v in self.targets.items()})


def load_cuts(corpus: Path, name: str):
    from lhotse import load_manifest

    path = Path(corpus) / corpus_layout.MANIFESTS / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found; build the corpus with `python -m train.data`")
    return load_manifest(path)


def collate_audio(cuts, max_seconds: float) -> tuple[torch.Tensor, torch.Tensor]:
    waves = []
    for cut in cuts:
        cut = cut.truncate(duration=min(cut.duration, max_seconds))
        waves.append(torch.from_numpy(cut.load_audio()[0]))
    n = torch.tensor([len(w) for w in waves])
    audio = torch.zeros(len(waves), int(n.max()))
    for i, w in enumerate(waves):
        audio[i, :len(w)] = w
    return audio, n


class TaskSampler:
    """Endless shuffled batches of one task, sized by total audio seconds.

    ``bucket_batches`` > 1 buckets by duration: it draws that many batches' worth of shuffled cuts,
    sorts them by duration, cuts the sorted run into batches and shuffles those. Cuts of one batch then
    have similar lengths, so little of a batch is padding, and every cut is still seen once per pass.
    """

    def __init__(self, cuts, batch_seconds: float, seed: int, rank: int = 0, world: int = 1,
                 bucket_batches: int = 1) -> None:
        self.cuts = [c for i, c in enumerate(sorted(cuts, key=lambda c: c.id)) if i % world == rank]
        if not self.cuts:
            raise ValueError("no training cuts for this task")
        if bucket_batches < 1:
            raise ValueError(f"bucket_batches must be >= 1, got {bucket_batches}")
        self.batch_seconds, self.rng, self.order, self.pos = batch_seconds, random.Random(seed + rank), [], 0
        self.bucket_batches, self.queue = bucket_batches, []  # queue: batches (cut indices) drawn, not yet served

    def _pass_ended(self) -> bool:
        return self.pos >= len(self.order)

    def _draw(self) -> int:
        if self._pass_ended():
            self.order = list(range(len(self.cuts)))
            self.rng.shuffle(self.order)
            self.pos = 0
        self.pos += 1
        return self.order[self.pos - 1]

    def _batch(self, indices) -> list[list[int]]:
        """Consecutive runs of ``indices`` of at least batch_seconds each (a short tail joins the last)."""
        batches, current, total = [], [], 0.0
        for i in indices:
            current.append(i)
            total += self.cuts[i].duration
            if total >= self.batch_seconds:
                batches.append(current)
                current, total = [], 0.0
        if current:
            if batches:
                batches[-1] += current
            else:
                batches.append(current)
        return batches

    def next(self, max_seconds: float | None = None) -> list:
        """The next batch; ``max_seconds`` (a curriculum) passes over longer cuts while it applies."""
        if self.queue and max_seconds is not None:
            self.queue = [b for b in self.queue if all(self.cuts[i].duration <= max_seconds for i in b)]
        if not self.queue:
            drawn, total, tries = [], 0.0, 0
            while total < self.batch_seconds * self.bucket_batches or not drawn:
                i = self._draw()
                tries += 1
                if max_seconds is not None and self.cuts[i].duration > max_seconds and tries <= 10 * len(self.cuts):
                    continue
                drawn.append(i)
                total += self.cuts[drawn[-1]].duration
                if self.bucket_batches > 1 and self._pass_ended():
                    break  # a bucket never spans two passes: every cut once per pass
            if self.bucket_batches > 1:
                drawn.sort(key=lambda i: self.cuts[i].duration)
            self.queue = self._batch(drawn)
            if self.bucket_batches > 1:
                self.rng.shuffle(self.queue)
        return [self.cuts[i] for i in self.queue.pop(0)]

    def state_dict(self) -> dict:
        return {"rng": self.rng.getstate(), "order": list(self.order), "pos": self.pos,
                "queue": [list(b) for b in self.queue]}

    def load_state_dict(self, state: dict) -> None:
        self.rng.setstate(_tupleize(state["rng"]))
        self.order, self.pos = list(state["order"]), int(state["pos"])
        self.queue = [list(b) for b in state.get("queue", [])]


def _tupleize(x):
    return tuple(_tupleize(i) for i in x) if isinstance(x, (list, tuple)) else x
