"""The streaming contract, defined once.

A :class:`StreamingSpec` names every tensor that crosses the boundary of one streaming step:
the audio chunk going in, the head outputs coming out, and the state tensors carried from one
step to the next. The model builds it from its config; the checkpoint carries it; the exporters
write it into ONNX metadata and the ``.pte``; the runtime reads it and never restates a shape.

This module is pure Python (no torch, no numpy) so that runtime-only installs can read it.

Conventions:
- Every shape here excludes the batch axis. Batch is always dim 0 of every tensor, states included.
- The order of ``states`` is the order of the state arguments of ``step`` and of its returned
  new states.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Hz: the rate every model of this project is trained, exported and benchmarked at (the front-end, every
# corpus and teacher). Defined here, once; a loaded model states its own rate in StreamingSpec.sample_rate.
SAMPLE_RATE = 16000

SPEC_FORMAT = "mt2kd-edge-streaming-spec"
SPEC_VERSION = 1
_DTYPES = ("float32", "int64")


@dataclass(frozen=True)
class TensorSpec:
    name: str  # unique within the spec; also the ONNX input/output name
    shape: tuple[int, ...]  # without the batch axis (batch is dim 0 of the real tensor)
    dtype: str = "float32"  # one of _DTYPES
    # States with reset="segment" are cleared by the runtime at an endpoint (speaker statistics);
    # reset="stream" states are only cleared when a new stream starts.
    reset: str = "stream"
    doc: str = ""  # one line for humans: what the tensor holds and in which units

    def __post_init__(self) -> None:
        if self.dtype not in _DTYPES:
            raise ValueError(f"tensor {self.name!r}: dtype {self.dtype!r} not in {_DTYPES}")
        if any((not isinstance(d, int)) or d <= 0 for d in self.shape):
            raise ValueError(f"tensor {self.name!r}: shape {self.shape} must be positive ints")
        if self.reset not in ("stream", "segment"):
            raise ValueError(f"tensor {self.name!r}: reset must be 'stream' or 'segment'")

    def batched_shape(self, batch: int) -> tuple[int, ...]:
        return (batch, *self.shape)

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class StreamingSpec:
    sample_rate: int  # Hz of the audio chunk input
    chunk_samples: int  # samples per step (fixed shape)
    frames_per_chunk: int  # encoder output frames per step
    frame_shift_ms: int  # ms between encoder output frames
    input: TensorSpec  # the audio chunk, float32 samples in [-1, 1]
    outputs: tuple[TensorSpec, ...]
    states: tuple[TensorSpec, ...]
    extra: dict[str, Any] = field(default_factory=dict)  # free-form, e.g. head names

    def __post_init__(self) -> None:
        names = [self.input.name] + [t.name for t in self.outputs] + [t.name for t in self.states]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"duplicate tensor names in streaming spec: {sorted(dup)}")

    @property
    def chunk_ms(self) -> int:
        return self.chunk_samples * 1000 // self.sample_rate

    def state(self, name: str) -> TensorSpec:
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(f"no state named {name!r}; states are {[s.name for s in self.states]}")

    def output(self, name: str) -> TensorSpec:
        for s in self.outputs:
            if s.name == name:
                return s
        raise KeyError(f"no output named {name!r}; outputs are {[s.name for s in self.outputs]}")

    # ---- serialisation (JSON-safe dicts, used by checkpoints, ONNX metadata and the .pte) ----
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["format"] = SPEC_FORMAT
        d["version"] = SPEC_VERSION
        return json.loads(json.dumps(d))  # JSON-native (lists, not tuples), equal to what files hold

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StreamingSpec":
        if not isinstance(d, dict) or d.get("format") != SPEC_FORMAT:
            raise ValueError(f"not a {SPEC_FORMAT} (format={d.get('format') if isinstance(d, dict) else type(d)})")
        if d.get("version") != SPEC_VERSION:
            raise ValueError(f"streaming spec version {d.get('version')} is not supported (want {SPEC_VERSION})")

        def ts(t: dict[str, Any]) -> TensorSpec:
            return TensorSpec(**{**t, "shape": tuple(t["shape"])})

        return cls(
            sample_rate=int(d["sample_rate"]),
            chunk_samples=int(d["chunk_samples"]),
            frames_per_chunk=int(d["frames_per_chunk"]),
            frame_shift_ms=int(d["frame_shift_ms"]),
            input=ts(d["input"]),
            outputs=tuple(ts(t) for t in d["outputs"]),
            states=tuple(ts(t) for t in d["states"]),
            extra=dict(d.get("extra", {})),
        )

    @classmethod
    def from_json(cls, s: str) -> "StreamingSpec":
        return cls.from_dict(json.loads(s))

    def describe(self) -> str:
        """A human-readable table of the contract."""
        lines = [
            f"step: {self.chunk_ms} ms = {self.chunk_samples} samples @ {self.sample_rate} Hz "
            f"-> {self.frames_per_chunk} frames @ {self.frame_shift_ms} ms",
            f"  in    {self.input.name:<28} (B, {', '.join(map(str, self.input.shape))}) {self.input.dtype}",
        ]
        for kind, items in (("out", self.outputs), ("state", self.states)):
            for t in items:
                shape = ", ".join(map(str, t.shape))
                lines.append(f"  {kind:<6}{t.name:<28} (B, {shape}) {t.dtype} {t.doc}")
        return "\n".join(lines)
