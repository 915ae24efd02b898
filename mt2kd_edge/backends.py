"""Model runners for the C++ engine: ExecuTorch (native C++) and ONNX (onnxruntime, called from
the C++ core through the Python trampoline backend). No torch needed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import _core
from .model_files import ModelFileError, read_onnx_metadata, to_json

BACKEND_FILES = {  # backend -> model file names to look for, preferred first
    "executorch": ("model.int8.pte", "model.fp32.pte"),
    "onnx": ("model.int8.onnx", "model.fp32.onnx"),
}


def executorch_backend(path: Path) -> "_core.Backend":
    try:
        return _core.create_executorch_backend(str(path))
    except ValueError as e:
        raise ModelFileError(str(e)) from None


class _OnnxStep:
    """step(samples, states) -> (outputs, states), called by the C++ engine with the GIL held."""

    def __init__(self, path: Path, meta: dict, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        spec = meta["streaming_spec"]
        self.input_names = [spec["input"]["name"]] + [s["name"] for s in spec["states"]]
        self.num_outputs = len(spec["outputs"])

    def __call__(self, samples: np.ndarray, states: list[np.ndarray]):
        out = self.session.run(None, dict(zip(self.input_names, [samples, *states])))
        return out[:self.num_outputs], out[self.num_outputs:]


def onnx_backend(path: Path, threads: int = 1) -> "_core.Backend":
    meta = read_onnx_metadata(path)
    return _core.create_python_backend(to_json(meta), str(path), _OnnxStep(path, meta, threads), 0, "onnx")


def find_model_file(model_dir: Path, backend: str, precision: str | None = None) -> Path:
    if backend not in BACKEND_FILES:
        raise ValueError(f"unknown backend {backend!r}; choose from {sorted(BACKEND_FILES)}")
    if not model_dir.is_dir():
        raise ModelFileError(f"{model_dir}: model directory not found")
    names = BACKEND_FILES[backend]
    if precision:
        names = tuple(n for n in names if f".{precision}." in n)
    for name in names:
        if (model_dir / name).is_file():
            return model_dir / name
    raise ModelFileError(f"{model_dir}: no {backend} model file (looked for {', '.join(names)})")


def create_backend(model_dir: str | os.PathLike, backend: str = "executorch", precision: str | None = None,
                   threads: int = 1) -> "_core.Backend":
    path = find_model_file(Path(model_dir), backend, precision)
    return executorch_backend(path) if backend == "executorch" else onnx_backend(path, threads)


__all__ = ["BACKEND_FILES", "create_backend", "find_model_file"]
