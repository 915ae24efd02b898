"""Training configs: a frozen dataclass read from a YAML file, with `--set key=value` overrides.

Model sizes live under `model:` and override ModelConfig fields; the rest drives the loop.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TASKS = ("asr", "at", "sv")  # the student's three tasks (speech recognition, audio tagging, speakers), in order
_SCALAR_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def _typed(key: str, kind: str, value: Any) -> Any:
    """``value`` as the field's scalar type, or a readable error naming the key.

    YAML 1.1 reads ``5e-4`` (no dot) as a string, so a float field takes a numeric string; otherwise a
    wrong type (``steps=abc``, ``spec_augment=1``) fails here, not as a TypeError steps into a run."""
    want = _SCALAR_TYPES.get(kind)
    if want is None:
        return value
    if want is str and value is None:  # `--set init_from=` (YAML reads the empty value as null): no path
        return ""
    if want is float and not isinstance(value, bool):
        if isinstance(value, int):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    if isinstance(value, want) and not (want is int and isinstance(value, bool)):
        return value
    raise ValueError(f"config key {key!r} must be {kind}, got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    stage: str = "stage2"  # "stage1" (distillation) or "stage2" (multi-task supervised)
    corpus: str = "data/corpus"
    out: str = "exp/stage2"
    init_from: str = ""  # checkpoint to start from (stage 2 starts from stage 1's best)
    freeze_encoder: bool = False  # train only the task heads (the paper's "stage 1 + light heads" row)
    targets: str = ""  # stage 1: the teacher target cache directory
    steps: int = 3000
    stop_after_steps: int = 0  # end this run after N steps (0: run to `steps`); resume later
    lr: float = 2e-3
    encoder_lr_scale: float = 1.0  # encoder lr = lr x this (stage 2 from stage 1: < 1 keeps the distilled space)
    warmup_steps: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 5.0
    batch_seconds: float = 64.0  # audio seconds per batch (per process)
    max_cut_seconds: float = 8.0  # longer cuts are truncated
    bucket_batches: int = 8  # batches' worth of cuts sorted by duration together (1: no bucketing; less padding)
    prefetch: bool = True  # load the next batch's audio in a thread while this step computes
    fft_frontend: bool = False  # training front-end through torch.fft (same features; measured no faster on CPU)
    precision: str = "auto"  # encoder matmuls in "bf16" (autocast; weights stay fp32) or "fp32"; auto: bf16
    # where the hardware has it (CUDA, CPUs with AMX or AVX512-BF16), else fp32
    spec_augment: bool = False  # SpecAugment on the features (train/augment.py)
    # which stage-2 tasks' batches it masks: session 14 masked AT batches too, and AT valid loss rose 0.019 -> 0.023
    spec_augment_tasks: tuple = TASKS
    speed_perturb: tuple = ()  # e.g. [0.9, 1.0, 1.1]: one factor per ASR batch
    # synthesis system -> times each of its speech cuts is drawn per pass, in ASR and speaker batches (default 1):
    # the session corpus is 80 % hibari, so the other voices are what the recogniser meets least
    system_repeats: dict = field(default_factory=dict)
    curriculum_steps: int = 0  # ASR cuts grow from curriculum_start_seconds to max_cut_seconds over these steps
    curriculum_start_seconds: float = 3.0
    task_ratio: dict = field(default_factory=lambda: {"asr": 2.0, "at": 1.0, "sv": 1.0})
    loss_scales: dict = field(default_factory=lambda: {"asr": 1.0, "at": 1.0, "sv": 1.0})
    chunk_frames_choices: tuple = (2, 4, 8, 16)  # encoder frames per attention chunk, drawn per step
    valid_every: int = 250
    save_every: int = 250
    log_every: int = 10
    seed: int = 0
    threads: int = 2
    device: str = "auto"  # "auto" (CUDA when torch sees a GPU, else CPU), "cpu" or "cuda"
    bpe_vocab_size: int = 256
    model: dict = field(default_factory=dict)  # ModelConfig overrides

    @classmethod
    def load(cls, path: str | Path | None, overrides: list[str] = ()) -> "TrainConfig":
        data: dict[str, Any] = {}
        if path:
            p = Path(path)
            if not p.is_file():
                raise FileNotFoundError(f"{p}: config file not found")
            data = yaml.safe_load(p.read_text()) or {}
        for item in overrides:
            if "=" not in item:
                raise ValueError(f"override {item!r} is not key=value")
            key, value = item.split("=", 1)
            target = data
            *parents, leaf = key.split(".")
            for k in parents:
                target = target.setdefault(k, {})
            target[leaf] = yaml.safe_load(value)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; known: {sorted(known)}")
        kinds = {f.name: f.type for f in dataclasses.fields(cls)}
        data = {k: _typed(k, kinds[k], v) for k, v in data.items()}
        for key in ("chunk_frames_choices", "speed_perturb", "spec_augment_tasks"):
            if key in data:
                data[key] = tuple(data[key])
        cfg = cls(**data)
        if not cfg.encoder_lr_scale >= 0:
            raise ValueError(f"encoder_lr_scale must be >= 0, got {cfg.encoder_lr_scale!r}")
        if cfg.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be auto, bf16 or fp32, got {cfg.precision!r}")
        if cfg.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {cfg.device!r}")
        if any(not 0.5 <= f <= 2.0 for f in cfg.speed_perturb):
            raise ValueError(f"speed_perturb factors must be in [0.5, 2], got {cfg.speed_perturb!r}")
        if not set(cfg.spec_augment_tasks) <= set(TASKS):
            raise ValueError(f"spec_augment_tasks must name asr, at or sv, got {cfg.spec_augment_tasks!r}")
        if cfg.bucket_batches < 1:
            raise ValueError(f"bucket_batches must be >= 1, got {cfg.bucket_batches!r}")
        if not isinstance(cfg.system_repeats, dict):
            raise ValueError(f"system_repeats must map systems to whole numbers >= 1, got {cfg.system_repeats!r}")
        bad_repeats = {k: v for k, v in cfg.system_repeats.items() if isinstance(v, bool) or not isinstance(v, int) or v < 1}
        if bad_repeats:
            raise ValueError(f"system_repeats must map systems to whole numbers >= 1, got {bad_repeats!r}")
        if cfg.stage not in ("stage1", "stage2"):
            raise ValueError(f"stage must be stage1 or stage2, got {cfg.stage!r}")
        return cfg

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))
