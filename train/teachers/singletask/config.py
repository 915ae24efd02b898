"""``SingleTaskConfig``: a single-task teacher's model shape and training settings, stored in its checkpoints.

Named apart from the students' ``train.config.TrainConfig``: the two trainers share no settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

TASKS = ("tag", "ctc", "speaker")
CTC_VOCAB = ("<blk>", " ", "'", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # the corpus transcript alphabet
FBANK_RATE_HZ = 100  # Kaldi 10 ms shift


@dataclass(frozen=True)
class EncoderConfig:
    num_mel_bins: int = 80
    subsampling: int = 16  # 4, 8 or 16 fbank frames per encoder frame (stride-2 convs); clip tagging
    # needs no 25 Hz detail, and 6.25 Hz frames cut the cost of a 17.9M-parameter model 4x
    conv_channels: int = 32  # light subsampling, as in the student
    d_model: int = 384
    num_layers: int = 10
    num_heads: int = 6
    ff_dim: int = 1536
    dropout: float = 0.0  # mask generation is costly on CPU; mixup + SpecAugment regularise


@dataclass(frozen=True)
class SingleTaskConfig:
    task: str = "tag"
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    embed_dim: int = 256  # speaker task: embedding width
    batch_size: int = 16
    crop_s: float = 3.0  # random crop per example (0 = whole clips)
    max_steps: int = 700  # ~5 min on 2 idle cores (tag, session corpus: ~2.5 steps/s), ~25 min on shared ones
    lr: float = 5e-4
    warmup_steps: int = 70
    weight_decay: float = 0.05
    mixup_prob: float = 0.5  # tag only: chance a batch is mixed
    mixup_alpha: float = 10.0  # lambda ~ Beta(alpha, alpha)
    specaug_freq_masks: int = 2
    specaug_freq_width: int = 15  # bins
    specaug_time_masks: int = 2
    specaug_time_frac: float = 0.1  # max width of a time mask, as a fraction of the crop
    balanced: bool = True  # tag only: sample clips by inverse class frequency
    eval_every: int = 250
    ckpt_every: int = 50
    log_every: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.encoder.subsampling not in (4, 8, 16):
            raise ValueError("subsampling must be 4, 8 or 16")
        if self.task == "ctc" and self.encoder.subsampling != 4:
            raise ValueError("ctc needs subsampling 4: 25 Hz frames outnumber the characters, 12.5 Hz may not")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SingleTaskConfig":
        return cls(**{**d, "encoder": EncoderConfig(**d["encoder"])})


def tiny_train_config(task: str = "tag", **kw: Any) -> SingleTaskConfig:
    """For tests: a ~50k-parameter model that learns in seconds."""
    enc = EncoderConfig(subsampling=4 if task == "ctc" else 8, conv_channels=8, d_model=32, num_layers=2,
                        num_heads=2, ff_dim=64)
    base = SingleTaskConfig(task=task, encoder=enc, embed_dim=16, batch_size=8, crop_s=2.0, max_steps=40, lr=3e-3,
                       warmup_steps=5, mixup_prob=0.0, eval_every=10**9, ckpt_every=20, log_every=10)
    return replace(base, **kw)
