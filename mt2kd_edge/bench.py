"""`mt2kd-edge bench`: latency, real-time factor, memory and size, measured side by side in one run.

Every configuration runs in its own child process pinned with `taskset` to 1 or 2 cores, so each
gets the same machine and its peak RSS is that of a runtime-only process (each row reports whether
torch got loaded; only the torch-eager row loads it). Per-chunk latency is the wall time of one engine decode of
one chunk (model step plus the core's own work), over the same synthetic speech-like audio.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FORMS = (("onnx", "fp32"), ("onnx", "int8"), ("executorch", "fp32"), ("executorch", "int8"))


def _audio(seconds: float) -> np.ndarray:
    from .synthetic import speech_like

    return speech_like(seconds, seed=123)


def _summary(step_s: list[float], audio_s: float) -> dict:
    ms = np.array(step_s) * 1000
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
            "rtf": float(ms.sum() / 1000 / audio_s), "chunks": len(ms),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def worker_engine(model_dir: str, backend: str, precision: str, seconds: float, threads: int) -> dict:
    from .engine import Engine

    engine = Engine.from_dir(model_dir, backend=backend, precision=precision, threads=threads)
    audio = _audio(seconds)
    stream = engine.create_stream()
    stream.accept_waveform(16000, audio)
    stream.input_finished()
    engine.decode(stream)  # warm-up chunk (first-call allocations)
    steps = []
    while stream.is_ready():
        t0 = time.perf_counter()
        engine.decode(stream)
        steps.append(time.perf_counter() - t0)
    return {**_summary(steps, seconds), **{f"timing_{k}": v for k, v in engine.timing().items()}}


def worker_torch(checkpoint: str, seconds: float, threads: int) -> dict:
    import torch

    from .model import load_checkpoint

    torch.set_num_threads(threads)
    model, _ = load_checkpoint(checkpoint)
    audio = torch.from_numpy(_audio(seconds))
    chunk = model.config.chunk_samples
    audio = torch.nn.functional.pad(audio, (0, -len(audio) % chunk))[None]
    states, steps = model.init_state(1), []
    with torch.inference_mode():
        for k in range(audio.shape[1] // chunk):
            t0 = time.perf_counter()
            out = model.step(audio[:, k * chunk:(k + 1) * chunk], *states)
            steps.append(time.perf_counter() - t0)
            states = list(out[3:])
    return _summary(steps[1:], seconds)


def worker_sherpa(model_dir: str, seconds: float, threads: int) -> dict:
    import sherpa_onnx

    d = Path(model_dir) / "sherpa"
    rec = sherpa_onnx.OnlineRecognizer.from_zipformer2_ctc(tokens=str(d / "tokens.txt"), model=str(d / "asr.onnx"),
                                                           num_threads=threads, sample_rate=16000, feature_dim=80)
    s = rec.create_stream()
    s.accept_waveform(16000, _audio(seconds))
    s.accept_waveform(16000, np.zeros(8000, np.float32))
    s.input_finished()
    steps = []
    while rec.is_ready(s):
        t0 = time.perf_counter()
        rec.decode_stream(s)
        steps.append(time.perf_counter() - t0)
    return _summary(steps[1:], seconds)


def _child(args: list[str], cores: int) -> dict:
    cmd = [sys.executable, "-m", "mt2kd_edge.bench", *args]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", ",".join(str(c) for c in range(cores)), *cmd]
    env = {**os.environ, "OMP_NUM_THREADS": str(cores)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


SINGLE = "single-task"


def _int8_backend(model_dir: Path) -> str:
    """The int8 form a single-task student was exported in (ExecuTorch preferred)."""
    from .backends import find_model_file

    for backend in ("executorch", "onnx"):
        try:
            find_model_file(model_dir, backend, "int8")
            return backend
        except ValueError:
            continue
    raise ValueError(f"{model_dir}: no int8 model to compare (export with --forms pte-int8 or onnx-int8)")


def _has_form(model_dir: Path, backend: str, precision: str) -> bool:
    from .backends import find_model_file

    try:
        find_model_file(model_dir, backend, precision)
        return True
    except ValueError:
        return False


def run_bench(model_dir: Path, checkpoint: Path | None, seconds: float, cores_list: tuple[int, ...],
              single_task: tuple[Path, ...] = ()) -> dict:
    """``single_task``: exported single-task students (one per task) whose summed cost the shared model is
    compared with; each runs in its int8 form (ExecuTorch if exported, else ONNX) through the same C++ core,
    against the shared model's row in that same form."""
    from .backends import find_model_file
    from .model_files import ModelFileError

    # Everything named is checked first: a typo must not run for minutes and print an empty table.
    if not any(_has_form(model_dir, backend, precision) for backend, precision in FORMS):
        find_model_file(model_dir, "executorch")  # raises: directory not found / no model file
        raise ModelFileError(f"{model_dir}: no model files to benchmark")
    if checkpoint and not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: checkpoint file not found")
    for student in single_task:
        _int8_backend(student)
    rows = []
    for cores in cores_list:
        for backend, precision in FORMS:
            try:
                find_model_file(model_dir, backend, precision)
            except ValueError:
                continue
            r = _child(["--worker", "engine", str(model_dir), backend, precision, str(seconds), str(cores)], cores)
            rows.append({"what": f"{backend} {precision} (C++ core)", "cores": cores, **r})
        if checkpoint:
            r = _child(["--worker", "torch", str(checkpoint), str(seconds), str(cores)], cores)
            rows.append({"what": "torch eager fp32", "cores": cores, **r})
        if (model_dir / "sherpa" / "asr.onnx").is_file():
            r = _child(["--worker", "sherpa", str(model_dir), str(seconds), str(cores)], cores)
            rows.append({"what": "sherpa-onnx ASR only (our zipformer2_ctc export)", "cores": cores, **r})
        for student in single_task:
            backend = _int8_backend(student)
            r = _child(["--worker", "engine", str(student), backend, "int8", str(seconds), str(cores)], cores)
            rows.append({"what": f"{SINGLE} {student.name}: {backend} int8 (C++ core)", "cores": cores, **r})
    manifest = json.loads((model_dir / "manifest.json").read_text()) if (model_dir / "manifest.json").is_file() else {}
    sizes = {name: info["bytes"] for name, info in manifest.get("files", {}).items()
             if name.endswith((".onnx", ".pte"))}
    ratios = {}
    for cores in cores_list:
        ours = next((r for r in rows if r["cores"] == cores and r["what"].startswith("onnx fp32") and "rtf" in r), None)
        sherpa = next((r for r in rows if r["cores"] == cores and r["what"].startswith("sherpa") and "rtf" in r), None)
        if ours and sherpa:
            ratios[f"three_tasks_vs_sherpa_asr_only_{cores}core"] = ours["rtf"] / sherpa["rtf"]
        singles = [r for r in rows if r["cores"] == cores and r["what"].startswith(SINGLE) and "rtf" in r]
        form = singles[0]["what"].split(": ", 1)[1] if singles else ""  # e.g. "onnx int8 (C++ core)"
        shared = next((r for r in rows if r["cores"] == cores and r["what"] == form and "rtf" in r), None)
        if shared and single_task and len(singles) == len(single_task):
            ratios[f"shared_vs_{len(singles)}_single_task_models_{cores}core"] = shared["rtf"] / sum(r["rtf"] for r in singles)
    return {"audio_s": seconds, "rows": rows, "model_bytes": sizes, "ratios": ratios}


def format_table(result: dict) -> str:
    lines = [f"{result['audio_s']:.0f} s of audio, 320 ms chunks; latency = one chunk through the engine",
             "", "| what | cores | median ms/chunk | p95 ms/chunk | RTF | peak RSS MB |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['what']} | {r['cores']} | error: {r['error']} | | | |")
        else:
            lines.append(f"| {r['what']} | {r['cores']} | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | "
                         f"{r['rtf']:.4f} | {r['peak_rss_mb']:.0f} |")
    if result["model_bytes"]:
        lines += ["", "| file | MB |", "|---|---|"]
        lines += [f"| {k} | {v / 1e6:.2f} |" for k, v in sorted(result["model_bytes"].items())]
    for k, v in result["ratios"].items():
        lines.append(f"\n{k}: {v:.2f}x")
    return "\n".join(lines)


def _worker_main(argv: list[str]) -> None:
    kind, rest = argv[0], argv[1:]
    if kind == "engine":
        out = worker_engine(rest[0], rest[1], rest[2], float(rest[3]), int(rest[4]))
    elif kind == "torch":
        out = worker_torch(rest[0], float(rest[1]), int(rest[2]))
    else:
        out = worker_sherpa(rest[0], float(rest[1]), int(rest[2]))
    out["torch_loaded"] = "torch" in sys.modules  # runtime rows must say False: a runtime-only process
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker_main(sys.argv[2:])
