"""Training and scoring batches: random crops, global mean/variance normalisation, SpecAugment, padding."""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import nn

from .config import FBANK_RATE_HZ, SingleTaskConfig
from .examples import Example


def spec_augment(x: torch.Tensor, length: int, cfg: SingleTaskConfig, rng: random.Random) -> torch.Tensor:
    """In place on one (T, F) normalised example (0 = the mean)."""
    for _ in range(cfg.specaug_freq_masks):
        w = rng.randint(0, cfg.specaug_freq_width)
        f0 = rng.randint(0, x.shape[1] - w)
        x[:, f0 : f0 + w] = 0.0
    for _ in range(cfg.specaug_time_masks):
        w = rng.randint(0, max(1, int(cfg.specaug_time_frac * length)))
        t0 = rng.randint(0, max(0, length - w))
        x[t0 : t0 + w] = 0.0
    return x


def make_batch(examples: list[Example], idx: list[int], cfg: SingleTaskConfig, norm: tuple[torch.Tensor, torch.Tensor],
               rng: random.Random, train: bool) -> tuple[torch.Tensor, torch.Tensor, Any]:
    crop = int(cfg.crop_s * FBANK_RATE_HZ) if (train and cfg.crop_s > 0) else 10**9
    mean, std = norm
    feats = []
    for i in idx:
        x = examples[i].feats
        if x.shape[0] > crop:
            t0 = rng.randint(0, x.shape[0] - crop)
            x = x[t0 : t0 + crop]
        x = (x.float() - mean) / std
        feats.append(spec_augment(x.clone(), x.shape[0], cfg, rng) if train else x)
    lens = torch.tensor([f.shape[0] for f in feats])
    batch = nn.utils.rnn.pad_sequence(feats, batch_first=True)
    if cfg.task == "tag":
        targets: Any = torch.stack([examples[i].target for i in idx])
    elif cfg.task == "ctc":
        targets = [torch.tensor(examples[i].target) for i in idx]
    else:
        targets = torch.tensor([examples[i].target for i in idx])
    return batch, lens, targets
