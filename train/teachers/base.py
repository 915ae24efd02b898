"""The teacher interface: 16 kHz float32 mono audio in, one target array out.

A teacher declares what it returns once, in a frozen ``TargetSpec``; the cache, the loaders and
the stage-1 losses read the spec and never guess shapes:

- ``FRAMES``: frame-level features, (num_frames, dim) at ``frame_rate_hz`` (Whisper: 50 Hz, 384-d);
- ``CLIP_PROBS``: clip-level class probabilities in [0, 1], (dim,) (the audio-tagging teacher);
- ``EMBEDDING``: one utterance embedding, (dim,) (the speaker teacher).
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from mt2kd_edge.spec import SAMPLE_RATE  # noqa: F401  (every teacher takes audio at this rate)


class TargetKind(str, enum.Enum):
    FRAMES = "frames"
    CLIP_PROBS = "clip_probs"
    EMBEDDING = "embedding"


@dataclass(frozen=True)
class TargetSpec:
    name: str  # custom-field name in the cache ("whisper", "tagger", "speaker")
    kind: TargetKind
    dim: int  # feature width, number of classes, or embedding size
    frame_rate_hz: float | None = None  # FRAMES only: frames per second of audio
    description: str = ""  # one line for reports: model, layer, source

    def __post_init__(self) -> None:
        if self.dim <= 0:
            raise ValueError(f"{self.name}: dim must be positive, got {self.dim}")
        if (self.kind is TargetKind.FRAMES) != (self.frame_rate_hz is not None):
            raise ValueError(f"{self.name}: frame_rate_hz is required for FRAMES targets and only for them")

    def num_frames(self, num_samples: int) -> int:
        """Frames that cover ``num_samples`` of audio (the last one may be partial)."""
        assert self.frame_rate_hz is not None
        return max(1, math.ceil(num_samples * self.frame_rate_hz / SAMPLE_RATE))

    def expected_shape(self, num_samples: int) -> tuple[int, ...]:
        if self.kind is TargetKind.FRAMES:
            return (self.num_frames(num_samples), self.dim)
        return (self.dim,)

    def check(self, target: np.ndarray, num_samples: int) -> np.ndarray:
        """Raise unless ``target`` has this spec's shape, a float dtype and finite values."""
        want = self.expected_shape(num_samples)
        if tuple(target.shape) != want:
            raise ValueError(f"{self.name}: target shape {tuple(target.shape)}, expected {want}")
        if not np.issubdtype(target.dtype, np.floating) or not np.isfinite(target).all():
            raise ValueError(f"{self.name}: target must be finite floats")
        if self.kind is TargetKind.CLIP_PROBS and (target.min() < 0 or target.max() > 1):
            raise ValueError(f"{self.name}: probabilities outside [0, 1]")
        return target

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TargetSpec":
        return cls(**{**d, "kind": TargetKind(d["kind"])})


@runtime_checkable
class Teacher(Protocol):
    """What every teacher offers. Implementations hold their weights and are not thread-safe."""

    spec: TargetSpec

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """audio (num_samples,) float32 in [-1, 1] at 16 kHz -> target of ``spec.expected_shape``."""
        ...


def as_mono_float32(audio: np.ndarray) -> np.ndarray:
    """Accept (N,) or (1, N); return a contiguous float32 (N,) array."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 2 and audio.shape[0] == 1:
        audio = audio[0]
    if audio.ndim != 1 or audio.size == 0:
        raise ValueError(f"expected mono audio (N,) with N > 0, got shape {audio.shape}")
    return np.ascontiguousarray(audio)


def fit_frames(frames: np.ndarray, num_frames: int) -> np.ndarray:
    """Trim or edge-pad (T, D) frames to exactly ``num_frames`` (rounding at the clip end)."""
    if frames.shape[0] >= num_frames:
        return frames[:num_frames]
    pad = np.repeat(frames[-1:], num_frames - frames.shape[0], axis=0)
    return np.concatenate([frames, pad], axis=0)
