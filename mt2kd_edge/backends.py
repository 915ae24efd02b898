"""Model runners for the C++ engine: ExecuTorch (native C++) and ONNX (onnxruntime, called from
the C++ core through the Python trampoline backend). No torch needed.

Nothing in a model directory is trusted: the file is checked against the sha256 in the
directory's ``manifest.json`` (``verify=False`` skips that), the C++ core checks the metadata
against itself and against the graph's own inputs and outputs, and the engine runs one real step
before anything decodes (see ``runtime/include/mt2kd/engine.h``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import _core
from .fileio import sha256
from .model_files import ModelFileError, open_onnx_session, read_onnx_metadata, to_json
from .model_layout import BACKEND_FILES, MANIFEST
from .spec import StreamingSpec
from .stepping import Stepper



def executorch_backend(path: Path, threads: int = 1) -> "_core.Backend":
    try:
        return _core.create_executorch_backend(str(path), threads)
    except ValueError as e:
        raise ModelFileError(str(e)) from None


class OnnxStep(Stepper):
    """The exported step graph in one onnxruntime session: ``step(samples, states) -> (outputs, states)``, what
    the C++ engine calls (with the GIL held) on the ONNX backend, and what the parity checks step by hand.
    The file is opened once: its metadata comes from the same session (``info`` given: that metadata instead)."""

    def __init__(self, path: Path, info: "_core.ModelInfo | None" = None, threads: int = 1) -> None:
        self.session = open_onnx_session(path, threads)
        if info is None:
            self.metadata_json = to_json(read_onnx_metadata(path, self.session))
            try:
                info = _core.ModelInfo.from_json(self.metadata_json, str(path))  # every check the C++ core makes
            except ValueError as e:
                raise ModelFileError(str(e)) from None
        else:
            self.metadata_json = info.json
        self.info = info
        self.spec = StreamingSpec.from_dict(json.loads(info.json)["streaming_spec"])
        self.input_names = [info.input_name] + [s.name for s in info.states]
        self._check_signature(path, info)

    def _check_signature(self, path: Path, info: "_core.ModelInfo") -> None:
        """The metadata's tensors against the graph's own (inputs by name, outputs in order; the
        batch axis aside), so a hand-edited metadata is refused at load, naming the mismatch."""
        want_in = [(info.input_name, [info.chunk_samples])] + [(s.name, list(s.shape)) for s in info.states]
        # outputs are read by position: their names (the exporter's "new.<state>" for new states)
        # must say the position is right, or two states of one shape could be swapped unnoticed
        want_out = [(o.name, list(o.shape)) for o in info.outputs] + [(f"new.{s.name}", list(s.shape)) for s in info.states]
        graph_in = {i.name: i.shape for i in self.session.get_inputs()}
        graph_out = [(o.name, o.shape) for o in self.session.get_outputs()]
        if sorted(graph_in) != sorted(name for name, _ in want_in) or [n for n, _ in graph_out] != [n for n, _ in want_out]:
            raise ModelFileError(f"{path}: the graph's inputs and outputs are not the ones its metadata names (inputs "
                                 f"{len(graph_in)} vs {len(want_in)}, outputs {len(graph_out)} vs {len(want_out)}; first "
                                 f"difference: {_first_difference(graph_in, graph_out, want_in, want_out)})")
        pairs = [(f"input {n}", graph_in[n], s) for n, s in want_in]
        pairs += [(f"output {i} ({n})", graph_out[i][1], s) for i, (n, s) in enumerate(want_out)]
        for what, got, want in pairs:
            fixed = [d if isinstance(d, int) else None for d in got[1:]]  # symbolic axes are not checked
            if len(got) != len(want) + 1 or any(g is not None and g != w for g, w in zip(fixed, want)):
                raise ModelFileError(f"{path}: the graph's {what} is {tuple(got)} but its metadata says "
                                     f"(batch, {', '.join(map(str, want))})")

    def step(self, samples: np.ndarray, states: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return self.split(self.session.run(None, dict(zip(self.input_names, [samples, *states]))))


def _first_difference(graph_in: dict, graph_out: list, want_in: list, want_out: list) -> str:
    missing = [n for n, _ in want_in if n not in graph_in]
    if missing or len(graph_in) != len(want_in):
        extra = sorted(set(graph_in) - {n for n, _ in want_in})
        return f"input {missing[0]!r} is not in the graph" if missing else f"the graph also takes {extra[0]!r}"
    for i, ((got, _), (want, _)) in enumerate(zip(graph_out, want_out)):
        if got != want:
            return f"output {i} is {got!r} in the graph, {want!r} in the metadata"
    return f"the graph returns {len(graph_out)} outputs, the metadata names {len(want_out)}"


def onnx_backend(path: Path, threads: int = 1) -> "_core.Backend":
    step = OnnxStep(path, threads=threads)
    return _core.create_python_backend(step.metadata_json, str(path), step, 0, "onnx")


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


def verify_model_file(path: Path) -> None:
    """Check ``path`` against the size and sha256 that its directory's manifest lists. A directory
    without a manifest (assembled by hand) has nothing to check against and passes."""
    manifest = path.parent / MANIFEST
    if not manifest.is_file():
        return
    skip = "pass --no-verify (verify=False) to load it unchecked"
    try:
        entry = json.loads(manifest.read_text())["files"].get(path.name)
        size, digest = (int(entry["bytes"]), str(entry["sha256"])) if entry is not None else (None, None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ModelFileError(f"{manifest}: unreadable manifest ({type(e).__name__}: {e}); {skip}") from None
    if entry is None:
        raise ModelFileError(f"{path}: not listed in {manifest}, so it cannot be verified; {skip}")
    if path.stat().st_size != size or sha256(path) != digest:
        raise ModelFileError(f"{path}: contents do not match the sha256 in {manifest} (corrupt, or changed "
                             f"after export); re-export it, or {skip}")


MAX_THREADS = 256


def create_backend(model_dir: str | os.PathLike, backend: str = "executorch", precision: str | None = None,
                   threads: int = 1, verify: bool = True) -> "_core.Backend":
    """``threads``: the intra-op threads of one stream's step, 1-MAX_THREADS (onnxruntime's own pool;
    for ExecuTorch, 1 runs each step on its caller's thread so that streams stepped from several threads
    run in parallel, more uses ExecuTorch's shared pool, one stream at a time). ``verify``: check the model file
    against the directory's manifest.json first (a 7 MB file takes about 20 ms)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be a whole number in 1-{MAX_THREADS}, got {threads!r}")
    path = find_model_file(Path(model_dir), backend, precision)
    if verify:
        verify_model_file(path)
    return executorch_backend(path, threads) if backend == "executorch" else onnx_backend(path, threads)


__all__ = ["BACKEND_FILES", "OnnxStep", "create_backend", "find_model_file", "onnx_backend", "verify_model_file"]
