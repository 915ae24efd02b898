"""Checkpoints carry the config and the streaming spec beside the weights.

Loading rebuilds the model from the stored config, so a checkpoint is self-describing (the
openai/whisper convention). The file is read with ``weights_only=True``: no pickle code runs.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_write
from ..spec import StreamingSpec
from .config import ModelConfig
from .model import MT2KDModel

CHECKPOINT_FORMAT = "mt2kd-edge-checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, foreign or of an unsupported version."""


def save_checkpoint(path: str | os.PathLike, model: MT2KDModel, extra: dict[str, Any] | None = None) -> Path:
    """Atomically write ``model`` (config, spec, weights) and ``extra`` (e.g. optimizer state)."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": model.config.to_dict(),
        "streaming_spec": model.streaming_spec().to_dict(),
        "model": model.state_dict(),
        "extra": extra or {},
    }
    buf = io.BytesIO()
    torch.save(payload, buf)  # serialise fully before touching the target file
    with atomic_write(path) as f:
        f.write(buf.getbuffer())
    return Path(path)


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for truncated or foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an mt2kd-edge checkpoint")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {payload.get('version')} is not supported "
                              f"(this build reads version {CHECKPOINT_VERSION})")
    return payload


def load_checkpoint(path: str | os.PathLike) -> tuple[MT2KDModel, dict[str, Any]]:
    """-> (model in eval mode, extra). The stored spec must match the rebuilt model's spec."""
    payload = read_checkpoint(path)
    try:
        model = MT2KDModel(ModelConfig.from_dict(payload["config"]))
        model.load_state_dict(payload["model"])
    except (ValueError, RuntimeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{path}: checkpoint does not match this model code: {e}") from None
    if StreamingSpec.from_dict(payload["streaming_spec"]) != model.streaming_spec():
        raise CheckpointError(f"{path}: stored streaming spec differs from the one its config builds")
    return model.eval(), payload.get("extra", {})
