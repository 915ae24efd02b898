"""Peak memory of the runtime as an app embeds it, for `mt2kd-edge bench` (issue 18).

Two processes, each started on its own, stream the model's demo clip with the model's own decoding
defaults (as `run` does) through the ExecuTorch int8 program, and report their peak RSS:
- the C++ example app `mt2kd_transcribe` (built by `make cpp-test`), which reports its own peak;
- a Python process that imports only numpy, soundfile and mt2kd_edge, loads the engine and streams the
  file in 100 ms pieces (no torch, no onnxruntime), with its peak after each stage.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from . import model_layout as layout
from .proc_memory import peak_rss_mb

PIECE_MS = 100  # `run --piece-ms`'s default: what a microphone hands over
DEFAULT_CPP_APP = Path("build/cpp/mt2kd_transcribe")  # where `make cpp-test` builds it
CPP_INCLUDES = "the C++ core + ExecuTorch runtime + XNNPACK, int8 program, decoder (+ LM), the WAV file"
PYTHON_INCLUDES = "python + numpy + soundfile + mt2kd_edge + ExecuTorch runtime, int8 program, decoder (+ LM), the file"


def app_flags(model_dir: Path) -> list[str]:
    """The model's decoding defaults (model.json) as the example app's options."""
    from .model_files import read_decoding_defaults

    defaults = read_decoding_defaults(model_dir)
    flags = []
    for key, flag in (("beam_size", "--beam-size"), ("lm", "--lm"), ("lm_weight", "--lm-weight"),
                      ("word_bonus", "--word-bonus"), ("oov_penalty", "--oov-penalty")):
        if key in defaults:
            flags += [flag, str(defaults[key])]
    return flags


def cpp_app_peak(model_dir: Path, app: Path) -> dict:
    """Peak RSS of the example app streaming the demo clip: its own VmHWM, which it prints with --peak-rss
    (proc_memory.py says why not the rusage of the child)."""
    clip = model_dir / layout.DEMO / layout.DEMO_CLIP
    pte = model_dir / layout.model_file("executorch", "int8")
    if not app.is_file():
        return {"skipped": f"{app}: not built (make cpp-test builds it)"}
    if not (clip.is_file() and pte.is_file()):
        return {"skipped": f"{model_dir}: needs {layout.DEMO}/{layout.DEMO_CLIP} and {pte.name}"}
    from .bench import pinned

    cmd = pinned([str(app), str(pte), str(clip), "--piece-ms", str(PIECE_MS), "--peak-rss", *app_flags(model_dir)], 1)
    out = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    err = out.stderr.strip()
    if out.returncode != 0:
        return {"error": err.splitlines()[-1] if err else f"exit {out.returncode}"}
    peak = re.search(r"^peak_rss_kb (\d+)$", err, re.M)
    if not peak:
        return {"error": f"{app}: printed no peak_rss_kb line (an older build? rebuild with make cpp-test)"}
    return {"peak_rss_mb": int(peak.group(1)) / 1024, "includes": CPP_INCLUDES}


def python_stream_peak(model_dir: str) -> dict:
    """Runs in the worker process: the peak RSS after each stage of loading and streaming."""
    import numpy as np

    from .audio_io import read_audio
    from .engine import Engine

    stages = {"imports_mb": peak_rss_mb()}  # python, numpy, soundfile, the mt2kd_edge package and its C++ core
    engine = Engine.from_dir(model_dir, backend="executorch", precision="int8")
    stages["engine_loaded_mb"] = peak_rss_mb()
    audio, rate = read_audio(Path(model_dir) / layout.DEMO / layout.DEMO_CLIP)
    piece = rate * PIECE_MS // 1000
    events = list(engine.events((audio[i:i + piece] for i in range(0, len(audio), piece)), rate))
    stages["streamed_mb"] = peak_rss_mb()
    loaded = sorted(m for m in ("torch", "onnxruntime", "scipy") if m in sys.modules)
    return {"peak_rss_mb": stages["streamed_mb"], "stages": stages, "events": len(events),
            "audio_s": float(np.size(audio)) / rate, "heavy_modules_loaded": loaded, "includes": PYTHON_INCLUDES}
