"""A split's examples in memory: Kaldi fbank (float16) and the task's targets, read from the corpus manifests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mt2kd_edge.labels_csv import read_labels_csv
from mt2kd_edge.model.frontend import KaldiFbank
from train.data.layout import LABELS, manifest_path

from ..base import as_mono_float32
from .config import CTC_VOCAB


@dataclass
class Example:
    cut_id: str
    feats: torch.Tensor  # (T, 80) float16 fbank
    target: Any  # tag: (C,) float multi-hot; ctc: list[int]; speaker: int


def fbank(audio: np.ndarray, frontend: KaldiFbank) -> torch.Tensor:
    with torch.no_grad():
        return frontend.offline(torch.from_numpy(as_mono_float32(audio))[None])[0]


def read_labels(corpus_dir: Path) -> list[str]:
    return [name for _, name in read_labels_csv(corpus_dir / LABELS)]


def cut_path(corpus_dir: Path, kind: str, split: str) -> Path:
    return manifest_path(corpus_dir, kind, split)


def load_examples(corpus_dir: Path, task: str, split: str, vocab: list[str] | None = None,
                  limit: int | None = None) -> tuple[list[Example], list[str]]:
    """Fbank + targets of one split, in memory. Returns (examples, vocab); ``vocab`` is the class
    names (tag), the CTC symbols, or the speaker ids (speaker; pass the training list for test)."""
    from lhotse import CutSet

    kind = "events" if task == "tag" else "speech"
    cuts = list(CutSet.from_file(cut_path(corpus_dir, kind, split)))[:limit]
    if task == "tag":
        vocab = read_labels(corpus_dir)
    elif task == "ctc":
        vocab = list(CTC_VOCAB)
    elif vocab is None:
        vocab = sorted({c.supervisions[0].speaker for c in cuts})
    index = {v: i for i, v in enumerate(vocab)}
    frontend, out = KaldiFbank(), []
    for c in cuts:
        sup = c.supervisions[0]
        if task == "tag":
            target = torch.zeros(len(vocab))
            target[[index[label] for label in sup.custom["labels"]]] = 1.0
        elif task == "ctc":
            target = [index[ch] for ch in sup.text]
        else:
            target = index.get(sup.speaker, -1)
        out.append(Example(c.id, fbank(c.load_audio(), frontend).half(), target))
    return out, vocab


def balanced_weights(examples: list[Example]) -> np.ndarray:
    """Per-example sampling weight: mean inverse frequency of its classes."""
    y = torch.stack([e.target for e in examples]).numpy()
    inv = 1.0 / np.maximum(y.sum(0), 1.0)
    w = (y * inv).sum(1) / np.maximum(y.sum(1), 1.0)
    return w / w.sum()


def fbank_norm(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.cat([e.feats.float() for e in examples[:2000]])
    return x.mean(0), x.std(0).clamp(min=1e-3)
