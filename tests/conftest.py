"""Shared test fixtures: test signals that need no data files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mt2kd_edge.synthetic import speech_like

SAMPLE_RATE = 16000


@pytest.fixture
def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "speech": speech_like(2.3),
        "noise": (0.1 * rng.standard_normal(int(1.7 * SAMPLE_RATE))).astype(np.float32),
        "silence": np.zeros(int(0.9 * SAMPLE_RATE), dtype=np.float32),
    }


# ---- shared, built once per session: an exported tiny model and the plain-CMake C++ build ----

ROOT = Path(__file__).resolve().parents[1]
TOKENS = ["<blk>", "▁the", "▁a", "▁cat", "s", "t", "e", "▁on", "n", "r", "▁is", "o", "d", "▁mat", "i", "l"]
LABELS = [("/m/mt2kd_00", "Speech"), ("/m/mt2kd_01", "Dog"), ("/m/mt2kd_02", "Siren"),
          ("/m/mt2kd_03", "Music"), ("/m/mt2kd_04", "Water tap faucet")]


def ctc_greedy(log_probs: np.ndarray, blank: int = 0) -> list[int]:
    """(T, V) -> token ids: best path, repeats merged, blanks dropped. The tests' own oracle for the
    runtime's C++ decoder (the evaluation decodes with that decoder only)."""
    best = log_probs.argmax(-1)
    keep = np.ones_like(best, dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(t) for t in best[keep] if t != blank]


def make_tiny_checkpoint(path: Path, seed: int = 0) -> Path:
    import torch

    from mt2kd_edge.model import MT2KDModel, save_checkpoint, tiny_config

    torch.manual_seed(seed)
    model = MT2KDModel(tiny_config())
    with torch.no_grad():  # visible biases everywhere so no output is trivially flat
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return save_checkpoint(path, model, tokens=TOKENS, labels=LABELS)


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory) -> dict:
    """A tiny random model exported in every form: {"dir", "manifest", "model", "ckpt"}."""
    from export import model_dir as md
    from mt2kd_edge.model import load_checkpoint

    tmp = tmp_path_factory.mktemp("tiny_export")
    ckpt = make_tiny_checkpoint(tmp / "tiny.pt")
    out = tmp / "model"
    manifest = md.export_checkpoint(ckpt, out, md.ExportOptions(log=lambda *_: None))
    return {"dir": out, "manifest": manifest, "model": load_checkpoint(ckpt)[0], "ckpt": ckpt}


@pytest.fixture(scope="session")
def cpp_build(tmp_path_factory) -> Path:
    """The C++ core, its unit tests and the example app, built with plain CMake (no Python)."""
    import os
    import shutil
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    cmake, ninja = (shutil.which(n, path=str(bin_dir)) for n in ("cmake", "ninja"))
    if not (cmake and ninja):
        pytest.fail(f"cmake/ninja missing from {bin_dir}: run `make setup`")
    build = tmp_path_factory.mktemp("cpp") / "build"
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": "2"}
    for cmd in ([cmake, "-S", str(ROOT), "-B", str(build), "-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}",
                 f"-DPython_EXECUTABLE={sys.executable}"], [cmake, "--build", str(build)]):
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return build


@pytest.fixture(scope="session")
def ci_corpus(tmp_path_factory) -> Path:
    """The `ci` corpus preset, built once per session (the builder installs what it needs)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("corpus") / "ci"
    done = subprocess.run([sys.executable, "-m", "train.data", "--preset", "ci", "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return out
