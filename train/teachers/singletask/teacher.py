"""A trained single-task teacher behind the ``Teacher`` interface (stage-1 target extraction)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from mt2kd_edge.model.frontend import KaldiFbank

from ..base import TargetKind, TargetSpec, fit_frames
from .checkpoint import load_model
from .config import FBANK_RATE_HZ
from .examples import fbank


class SingleTaskTeacher:
    """A trained in-project teacher behind the ``Teacher`` interface: tag -> clip probabilities,
    speaker -> embedding, ctc -> 25 Hz (or 12.5 Hz) encoder frames."""

    def __init__(self, checkpoint: str | Path, name: str | None = None) -> None:
        self.model, ckpt = load_model(checkpoint)
        self.norm, self.vocab = ckpt["norm"], ckpt["vocab"]
        self.frontend = KaldiFbank()
        cfg = self.model.cfg
        if cfg.task == "tag":
            self.spec = TargetSpec(name or "tagger", TargetKind.CLIP_PROBS, len(self.vocab),
                                   description=f"in-project AT teacher {Path(checkpoint).name}")
        elif cfg.task == "speaker":
            self.spec = TargetSpec(name or "speaker", TargetKind.EMBEDDING, cfg.embed_dim,
                                   description=f"in-project speaker teacher {Path(checkpoint).name}")
        else:
            self.spec = TargetSpec(name or "asr", TargetKind.FRAMES, cfg.encoder.d_model,
                                   FBANK_RATE_HZ / cfg.encoder.subsampling,
                                   description=f"in-project CTC teacher {Path(checkpoint).name}")

    @torch.no_grad()
    def __call__(self, audio: np.ndarray) -> np.ndarray:
        feats = ((fbank(audio, self.frontend) - self.norm[0]) / self.norm[1])[None]
        lens = torch.tensor([feats.shape[1]])
        if self.model.cfg.task == "ctc":
            enc, _ = self.model.encoder(feats, lens)
            return fit_frames(enc[0].numpy(), self.spec.num_frames(len(audio)))
        y, _ = self.model(feats, lens)
        y = torch.sigmoid(y) if self.model.cfg.task == "tag" else nn.functional.normalize(y, dim=-1)
        return y[0].numpy().astype(np.float32)
