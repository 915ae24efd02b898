"""Model hyper-parameters: one frozen dataclass that travels inside every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..spec import SAMPLE_RATE  # the front-end and every corpus are at this rate

FBANK_SHIFT_MS = 10  # Kaldi frame shift -> 100 fbank frames per second
SUBSAMPLING = 4  # the conv front-end turns 100 Hz fbank into 25 Hz encoder frames
ENCODER_SHIFT_MS = FBANK_SHIFT_MS * SUBSAMPLING  # 40 ms per encoder output frame


@dataclass(frozen=True)
class ModelConfig:
    # --- streaming ---
    chunk_ms: int = 320  # audio per streaming step; a multiple of ENCODER_SHIFT_MS
    left_context_ms: int = 2560  # attention left context kept in the key/value cache
    # --- front-end ---
    num_mel_bins: int = 80  # Kaldi fbank bins (20-7600 Hz)
    subsampling_channels: int = 32  # light conv subsampling: full width costs half of a train step
    # --- encoder ---
    d_model: int = 192
    num_layers: int = 6
    num_heads: int = 4
    ff_dim: int = 768
    conv_kernel: int = 15  # causal depthwise conv; its cache holds kernel-1 frames
    rel_pos_clip_frames: int = 16  # learned attention bias per head for |distance| <= this
    dropout: float = 0.0  # residual dropout only; mask generation costs a lot on CPU
    # --- task heads ---
    vocab_size: int = 256  # CTC output units (index 0 is the blank)
    num_tag_classes: int = 48  # audio-tagging classes (train/data/events.py CLASSES)
    speaker_embed_dim: int = 192
    # --- stage-1 distillation heads (teacher dimensions) ---
    kd_asr_teacher_dim: int = 384  # Whisper tiny.en encoder width, 50 Hz frames
    kd_asr_shift_frames: int = 1  # student frame t predicts teacher frames of student frame t - shift
    kd_tag_teacher_classes: int = 48  # classes of the audio-tagging teacher (a stage-1 cache sets it)
    kd_spk_teacher_dim: int = 256  # resemblyzer embedding width

    def __post_init__(self) -> None:
        if self.chunk_ms <= 0 or self.chunk_ms % ENCODER_SHIFT_MS:
            raise ValueError(f"chunk_ms={self.chunk_ms} must be a positive multiple of {ENCODER_SHIFT_MS}")
        if self.left_context_ms < 0 or self.left_context_ms % ENCODER_SHIFT_MS:
            raise ValueError(f"left_context_ms={self.left_context_ms} must be a multiple of {ENCODER_SHIFT_MS}")
        if self.left_context_frames < 1:
            raise ValueError("left_context_ms must hold at least one encoder frame")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} not divisible by num_heads={self.num_heads}")
        if self.conv_kernel < 2:
            raise ValueError("conv_kernel must be >= 2")
        if self.kd_asr_shift_frames < 0:
            raise ValueError("kd_asr_shift_frames must be >= 0")

    # Derived sizes, so that no other file recomputes them.
    @property
    def chunk_samples(self) -> int:
        return self.chunk_ms * SAMPLE_RATE // 1000

    @property
    def chunk_fbank_frames(self) -> int:
        return self.chunk_ms // FBANK_SHIFT_MS

    @property
    def chunk_frames(self) -> int:
        """Encoder output frames per streaming step."""
        return self.chunk_ms // ENCODER_SHIFT_MS

    @property
    def left_context_frames(self) -> int:
        return self.left_context_ms // ENCODER_SHIFT_MS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown ModelConfig fields {unknown}; was this checkpoint made by a newer version?")
        return cls(**d)

    def with_overrides(self, **kw: Any) -> "ModelConfig":
        return replace(self, **kw)


def tiny_config(**overrides: Any) -> ModelConfig:
    """A model small enough for unit tests (about 0.1M parameters)."""
    base = ModelConfig(
        chunk_ms=160, left_context_ms=320, subsampling_channels=8, d_model=32, num_layers=2,
        num_heads=2, ff_dim=64, conv_kernel=5, rel_pos_clip_frames=4, vocab_size=16,
        num_tag_classes=5, speaker_embed_dim=16, kd_asr_teacher_dim=12, kd_tag_teacher_classes=5,
        kd_spk_teacher_dim=10,
    )
    return replace(base, **overrides)
