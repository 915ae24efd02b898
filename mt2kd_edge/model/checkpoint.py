"""Checkpoints carry the config and the streaming spec beside the weights.

Loading rebuilds the model from the stored config, so a checkpoint is self-describing (the
openai/whisper convention). The file is read with ``weights_only=True``: no pickle code runs.
"""

from __future__ import annotations

import io
import os
import warnings
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


def _check_vocabulary(config: ModelConfig, tokens: list[str] | None, labels: list[tuple[str, str]] | None) -> None:
    if tokens is not None:
        if len(tokens) != config.vocab_size or tokens[0] != "<blk>":
            raise ValueError(f"tokens must be {config.vocab_size} strings starting with '<blk>' "
                             f"(got {len(tokens)}, first {tokens[:1]})")
    if labels is not None:
        if len(labels) != config.num_tag_classes or any(len(lab) != 2 for lab in labels):
            raise ValueError(f"labels must be {config.num_tag_classes} (mid, display name) pairs, got {len(labels)}")
        bad = [name for _, name in labels if '"' in name or "\n" in name]
        if bad:  # the labels CSV quotes names; sherpa-onnx's reader does not unescape
            raise ValueError(f"label names may not contain quotes or newlines: {bad}")


def save_checkpoint(path: str | os.PathLike, model: MT2KDModel, extra: dict[str, Any] | None = None,
                    tokens: list[str] | None = None, labels: list[tuple[str, str]] | None = None) -> Path:
    """Atomically write ``model`` (config, spec, weights) and ``extra`` (e.g. optimizer state).

    ``tokens`` (the CTC units, "<blk>" first) and ``labels`` ((mid, display name) per tag class)
    travel with the weights so that an export needs nothing else.
    """
    _check_vocabulary(model.config, tokens, labels)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": model.config.to_dict(),
        "streaming_spec": model.streaming_spec().to_dict(),
        "model": model.state_dict(),
        "extra": extra or {},
        "tokens": list(tokens) if tokens is not None else None,
        "labels": [list(lab) for lab in labels] if labels is not None else None,
    }
    buf = io.BytesIO()
    torch.save(payload, buf)  # serialise fully before touching the target file
    with atomic_write(path) as f:
        f.write(buf.getbuffer())
    return Path(path)


def _unreadable_reason(e: Exception) -> str:
    """Why torch.load failed, without torch's own advice: it suggests retrying with
    weights_only=False, which would run whatever code the file holds. Never do that here."""
    import pickle

    if isinstance(e, pickle.UnpicklingError):
        return "it is not a torch file of tensors and plain data, so not an mt2kd-edge checkpoint"
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if not first or "weights_only" in first:
        return f"{type(e).__name__}; not an mt2kd-edge checkpoint"
    return f"{type(e).__name__}: {first[:200]}"


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols on its way to failing
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for truncated or foreign files
        raise CheckpointError(f"{path}: not a readable checkpoint ({_unreadable_reason(e)})") from None
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
