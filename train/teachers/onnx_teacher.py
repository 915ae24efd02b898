"""External teachers from ONNX files a user already has (for example sherpa-onnx tagging or speaker
models), described by a small config and a local path. Nothing is downloaded.

The model gets one utterance at a time, batch 1:
- ``input_kind="samples"``: (1, N) float32 samples in [-1, 1];
- ``input_kind="fbank"``: (1, T, 80) Kaldi log-mel fbank (the project front-end, offline; the
  features sherpa-onnx computes for its zipformer / speaker / tagging models).
If the model has a second input, it receives the length (1,) int64 (``x_lens`` in sherpa-onnx).
Output ``output_index`` is read and its batch axis dropped: (T', dim) for ``frames`` (trimmed or
edge-padded to the clip at ``frame_rate_hz``), (dim,) for ``clip_probs`` / ``embedding``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .base import TargetKind, TargetSpec, as_mono_float32, fit_frames


@dataclass(frozen=True)
class OnnxTeacherConfig:
    path: str  # local .onnx file
    name: str  # custom-field name of its targets in the cache
    kind: str  # "frames", "clip_probs" or "embedding"
    dim: int  # output width
    input_kind: str = "samples"  # "samples" (1, N) or "fbank" (1, T, 80)
    output_index: int = 0  # which model output holds the targets
    frame_rate_hz: float | None = None  # frames only: output frames per second
    apply_sigmoid: bool = False  # clip_probs from a model that outputs logits
    num_threads: int = 1  # onnxruntime intra-op threads (one per extraction worker)

    def __post_init__(self) -> None:
        if self.input_kind not in ("samples", "fbank"):
            raise ValueError(f"input_kind must be 'samples' or 'fbank', got {self.input_kind!r}")
        TargetKind(self.kind)  # raises on an unknown kind

    @classmethod
    def from_json(cls, path: str | Path) -> "OnnxTeacherConfig":
        d: dict[str, Any] = json.loads(Path(path).read_text())
        if not Path(d["path"]).is_absolute():  # relative model paths are relative to the config
            d["path"] = str(Path(path).parent / d["path"])
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


class OnnxTeacher:
    def __init__(self, config: OnnxTeacherConfig) -> None:
        import onnxruntime as ort

        if not Path(config.path).is_file():
            raise FileNotFoundError(f"ONNX teacher model not found: {config.path}")
        self.config = config
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = config.num_threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(config.path, opts, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.spec = TargetSpec(config.name, TargetKind(config.kind), config.dim, config.frame_rate_hz,
                               f"ONNX {Path(config.path).name} ({config.input_kind} in, output {config.output_index})")
        self._fbank = None

    def _features(self, audio: np.ndarray) -> np.ndarray:
        if self.config.input_kind == "samples":
            return audio[None]
        if self._fbank is None:
            from mt2kd_edge.model.frontend import KaldiFbank
            self._fbank = KaldiFbank()
        import torch
        with torch.no_grad():
            return self._fbank.offline(torch.from_numpy(audio)[None]).numpy()

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        audio = as_mono_float32(audio)
        x = self._features(audio)
        feeds = {self.input_names[0]: x.astype(np.float32)}
        if len(self.input_names) > 1:
            feeds[self.input_names[1]] = np.array([x.shape[1]], dtype=np.int64)
        out = np.asarray(self.session.run(None, feeds)[self.config.output_index], dtype=np.float32)[0]
        if self.config.apply_sigmoid:
            out = 1.0 / (1.0 + np.exp(-out))
        if self.spec.kind is TargetKind.FRAMES:
            out = fit_frames(out, self.spec.num_frames(len(audio)))
        return self.spec.check(out, len(audio))
