"""Batches for supervised (stage 2) and distillation (stage 1) training, from lhotse cuts.

Audio is loaded raw (16 kHz float32): the model's front-end computes fbank in-graph, so training
sees exactly the features the exported model computes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

MANIFESTS = {  # task -> cuts file in the corpus (train split)
    "asr": "speech_cuts_train.jsonl.gz",
    "sv": "speech_cuts_train.jsonl.gz",
    "at": "events_cuts_train.jsonl.gz",
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

    path = Path(corpus) / "manifests" / name
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
    """Endless shuffled batches of one task, sized by total audio seconds."""

    def __init__(self, cuts, batch_seconds: float, seed: int, rank: int = 0, world: int = 1) -> None:
        self.cuts = [c for i, c in enumerate(sorted(cuts, key=lambda c: c.id)) if i % world == rank]
        if not self.cuts:
            raise ValueError("no training cuts for this task")
        self.batch_seconds, self.rng, self.order, self.pos = batch_seconds, random.Random(seed + rank), [], 0

    def next(self) -> list:
        batch, total = [], 0.0
        while total < self.batch_seconds or not batch:
            if self.pos >= len(self.order):
                self.order = list(range(len(self.cuts)))
                self.rng.shuffle(self.order)
                self.pos = 0
            cut = self.cuts[self.order[self.pos]]
            self.pos += 1
            batch.append(cut)
            total += cut.duration
        return batch

    def state_dict(self) -> dict:
        return {"rng": self.rng.getstate(), "order": self.order, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.rng.setstate(_tupleize(state["rng"]))
        self.order, self.pos = list(state["order"]), int(state["pos"])


def _tupleize(x):
    return tuple(_tupleize(i) for i in x) if isinstance(x, (list, tuple)) else x
