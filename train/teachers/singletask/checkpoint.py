"""A teacher's checkpoint: ``{"config", "model_state_dict", "norm", "vocab", "step", "extra"}``, plus the
optimiser and RNG states in ``last.pt`` (resumable). The format is the one the teachers were trained with."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from .config import SingleTaskConfig
from .model import SingleTaskModel


def save_checkpoint(path: Path, model: SingleTaskModel, opt: torch.optim.Optimizer | None, step: int,
                    norm: tuple[torch.Tensor, torch.Tensor], vocab: list[str], rng: random.Random,
                    extra: dict[str, Any] | None = None) -> None:
    ckpt = {"config": model.cfg.to_dict(), "model_state_dict": model.state_dict(), "norm": norm,
            "vocab": vocab, "step": step, "extra": extra or {}}
    if opt is not None:
        ckpt.update(optimizer=opt.state_dict(), rng=rng.getstate(), torch_rng=torch.get_rng_state())
    tmp = path.with_suffix(".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(path)  # atomic: an interrupted save never leaves a broken checkpoint


def load_model(path: str | Path) -> tuple[SingleTaskModel, dict[str, Any]]:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = SingleTaskModel(SingleTaskConfig.from_dict(ckpt["config"]), len(ckpt["vocab"]))
    model.load_state_dict(ckpt["model_state_dict"])
    return model.eval(), ckpt
