"""`mt2kd-edge bench`: latency, real-time factor, memory and size, measured side by side in one run.

Every configuration runs in its own child process pinned with `taskset` to 1 or 2 cores, so each
gets the same machine (each row reports whether torch got loaded; only the torch-eager row loads it).
A row's peak RSS is that worker's, synthetic audio and all; the memory table below is what an app
that embeds the runtime uses. Per-chunk latency is the wall time of one engine decode of
one chunk (model step plus the core's own work), over the same synthetic speech-like audio, decoded
greedily. The decoding rows then time the CTC decoder itself (greedy, beam 4, beam 4 with the model's
word LM) against the model's step in the same process, on the model's demo clip (real speech) when it
has one. Then: N streams decoded from N threads on one engine (bench_parallel.py), and the peak memory
of the C++ example app and of a Python process that only streams a file (bench_memory.py), each in its
own child process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import model_layout as layout
from .proc_memory import peak_rss_mb
from .spec import SAMPLE_RATE

FORMS = (("onnx", "fp32"), ("onnx", "int8"), ("executorch", "fp32"), ("executorch", "int8"))


def _audio(seconds: float) -> np.ndarray:
    from .synthetic import speech_like

    return speech_like(seconds, seed=123)


def _summary(step_s: list[float], audio_s: float) -> dict:
    ms = np.array(step_s) * 1000
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
            "rtf": float(ms.sum() / 1000 / audio_s), "chunks": len(ms),
            "peak_rss_mb": peak_rss_mb()}


GREEDY = {"beam_size": 1, "lm": None}
DECODINGS = (("greedy", GREEDY), ("beam 4", {"beam_size": 4, "lm": None}), ("beam 4 + LM", {"beam_size": 4}))


def _demo_audio(model_dir: str, seconds: float) -> np.ndarray | None:
    """The model's demo clip, repeated to ``seconds`` (real speech keeps the beam busy), or None."""
    path = Path(model_dir) / layout.DEMO / layout.DEMO_CLIP
    if not path.is_file():
        return None
    from .audio_io import read_mono_16k

    clip = read_mono_16k(str(path))
    return np.tile(clip, int(np.ceil(seconds * SAMPLE_RATE / len(clip))))[:int(seconds * SAMPLE_RATE)]


def worker_engine(model_dir: str, backend: str, precision: str, seconds: float, threads: int,
                  decoding: str = "", audio_kind: str = "synthetic") -> dict:
    from .engine import Engine

    options = json.loads(decoding) if decoding else GREEDY
    engine = Engine.from_dir(model_dir, backend=backend, precision=precision, threads=threads, **options)
    audio = _demo_audio(model_dir, seconds) if audio_kind == "demo" else None
    audio = _audio(seconds) if audio is None else audio
    stream = engine.create_stream()
    stream.accept_waveform(SAMPLE_RATE, audio)
    stream.input_finished()
    engine.decode(stream)  # warm-up chunk (first-call allocations)
    steps = []
    while stream.is_ready():
        t0 = time.perf_counter()
        engine.decode(stream)
        steps.append(time.perf_counter() - t0)
    timing = engine.timing()
    per_chunk = {f"{k[:-2]}_ms_per_chunk": 1000 * timing[k] / max(timing["chunks"], 1)
                 for k in ("model_s", "core_s", "decoder_s")}
    return {**_summary(steps, seconds), **{f"timing_{k}": v for k, v in timing.items()}, **per_chunk,
            "decoding": engine.decoding, "audio": audio_kind}


def worker_torch(checkpoint: str, seconds: float, threads: int) -> dict:
    # The torch side of the SDK (mt2kd_edge.model says "needs torch" where it is missing); only this row loads it.
    from .model.step_timing import eager_step_seconds

    return _summary(eager_step_seconds(checkpoint, _audio(seconds), threads)[1:], seconds)


def _mel_bins(model_dir: Path) -> int:
    from .model_files import read_model_metadata

    return read_model_metadata(model_dir / layout.MODEL_JSON)["frontend"]["num_mel_bins"]


def worker_sherpa(model_dir: str, seconds: float, threads: int, precision: str = "fp32") -> dict:
    import sherpa_onnx

    d = Path(model_dir) / layout.SHERPA
    rec = sherpa_onnx.OnlineRecognizer.from_zipformer2_ctc(tokens=str(d / layout.TOKENS),
                                                           model=str(d / layout.SHERPA_ASR_FILES[precision]),
                                                           num_threads=threads, sample_rate=SAMPLE_RATE,
                                                           feature_dim=_mel_bins(Path(model_dir)))
    s = rec.create_stream()
    s.accept_waveform(SAMPLE_RATE, _audio(seconds))
    s.accept_waveform(SAMPLE_RATE, np.zeros(SAMPLE_RATE // 2, np.float32))
    s.input_finished()
    steps = []
    while rec.is_ready(s):
        t0 = time.perf_counter()
        rec.decode_stream(s)
        steps.append(time.perf_counter() - t0)
    return _summary(steps[1:], seconds)


def pinned(cmd: list[str], cores: int) -> list[str]:
    """``cmd`` pinned to the first ``cores`` cores with taskset, where the machine has it."""
    return ["taskset", "-c", ",".join(str(c) for c in range(cores)), *cmd] if shutil.which("taskset") else cmd


def _child(args: list[str], cores: int) -> dict:
    cmd = pinned([sys.executable, "-m", "mt2kd_edge.bench", *args], cores)
    env = {**os.environ, "OMP_NUM_THREADS": str(cores)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


SINGLE = "single-task"
SHERPA_ROW = "sherpa-onnx ASR only (our zipformer2_ctc export),"


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


PARALLEL_STREAMS = (1, 2, 4)
PARALLEL_FORMS = (("executorch", "int8"), ("onnx", "int8"))


def run_bench(model_dir: Path, checkpoint: Path | None, seconds: float, cores_list: tuple[int, ...],
              single_task: tuple[Path, ...] = (), cpp_app: Path | None = None) -> dict:
    """``cpp_app``: the example app binary whose peak memory is reported (default: where `make cpp-test`
    builds it). ``single_task``: exported single-task students (one per task) whose summed cost the shared model is
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
    rows, decoding_rows = [], []
    decode_form = next((f for f in (("executorch", "int8"), *FORMS) if _has_form(model_dir, *f)), None)
    from .model_files import read_decoding_defaults

    has_lm = "lm" in read_decoding_defaults(model_dir)
    audio_kind = "demo" if (model_dir / layout.DEMO / layout.DEMO_CLIP).is_file() else "synthetic"
    for cores in cores_list:
        for name, options in DECODINGS if decode_form else ():
            if name.endswith("LM") and not has_lm:
                continue
            r = _child(["--worker", "engine", str(model_dir), *decode_form, str(seconds), str(cores), json.dumps(options),
                        audio_kind], cores)
            if "decoder_ms_per_chunk" in r:
                r["decoder_vs_model"] = r["decoder_ms_per_chunk"] / r["model_ms_per_chunk"]
            decoding_rows.append({"what": f"{' '.join(decode_form)}, {name}", "cores": cores, **r})
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
        for precision, name in layout.SHERPA_ASR_FILES.items():
            if (model_dir / layout.SHERPA / name).is_file():
                r = _child(["--worker", "sherpa", str(model_dir), str(seconds), str(cores), precision], cores)
                rows.append({"what": f"{SHERPA_ROW} {precision}", "cores": cores, **r})
        for student in single_task:
            backend = _int8_backend(student)
            r = _child(["--worker", "engine", str(student), backend, "int8", str(seconds), str(cores)], cores)
            rows.append({"what": f"{SINGLE} {student.name}: {backend} int8 (C++ core)", "cores": cores, **r})
    parallel_rows = _parallel_rows(model_dir, seconds, max(cores_list), audio_kind)
    memory_rows = _memory_rows(model_dir, cpp_app)
    manifest = json.loads((model_dir / layout.MANIFEST).read_text()) if (model_dir / layout.MANIFEST).is_file() else {}
    lm_name = Path(read_decoding_defaults(model_dir).get("lm", "")).name
    sizes = {name: info["bytes"] for name, info in manifest.get("files", {}).items()
             if name.endswith((".onnx", ".pte")) or (lm_name and name == lm_name)}
    ratios = {}
    for cores in cores_list:
        def row(what: str, cores: int = cores) -> dict | None:
            return next((r for r in rows if r["cores"] == cores and r["what"] == what and "rtf" in r), None)

        # our three tasks through the C++ core against sherpa-onnx's ASR alone, at the same precision
        for ours, sherpa, key in (("onnx fp32", "fp32", "three_tasks_vs_sherpa_asr_only"),
                                  ("onnx int8", "int8", "three_tasks_onnx_int8_vs_sherpa_int8_asr_only"),
                                  ("executorch int8", "int8", "three_tasks_executorch_int8_vs_sherpa_int8_asr_only")):
            a, b = row(f"{ours} (C++ core)"), row(f"{SHERPA_ROW} {sherpa}")
            if a and b:
                ratios[f"{key}_{cores}core"] = a["rtf"] / b["rtf"]
        singles = [r for r in rows if r["cores"] == cores and r["what"].startswith(SINGLE) and "rtf" in r]
        form = singles[0]["what"].split(": ", 1)[1] if singles else ""  # e.g. "onnx int8 (C++ core)"
        shared = next((r for r in rows if r["cores"] == cores and r["what"] == form and "rtf" in r), None)
        if shared and single_task and len(singles) == len(single_task):
            ratios[f"shared_vs_{len(singles)}_single_task_models_{cores}core"] = shared["rtf"] / sum(r["rtf"] for r in singles)
        int8, fp32 = row("executorch int8 (C++ core)"), row("executorch fp32 (C++ core)")
        if int8 and fp32:
            ratios[f"executorch_int8_vs_fp32_{cores}core"] = int8["rtf"] / fp32["rtf"]
        lm_row = next((r for r in decoding_rows if r["cores"] == cores and r["what"].endswith("beam 4 + LM")
                       and "decoder_vs_model" in r), None)
        if lm_row:
            ratios[f"decoder_beam4_lm_vs_encoder_{cores}core"] = lm_row["decoder_vs_model"]
    for r in parallel_rows:
        for n, speedup in r.get("speedup", {}).items():
            if n != "1":
                ratios[f"{r['what'].split(',')[0].replace(' ', '_')}_{n}_streams_vs_1_{r['cores']}core"] = speedup
    return {"audio_s": seconds, "rows": rows, "decoding_rows": decoding_rows, "parallel_rows": parallel_rows,
            "memory_rows": memory_rows, "model_bytes": sizes, "ratios": ratios}


def _parallel_rows(model_dir: Path, seconds: float, cores: int, audio_kind: str) -> list[dict]:
    rows = []
    for backend, precision in PARALLEL_FORMS:
        if _has_form(model_dir, backend, precision):
            r = _child(["--worker", "parallel", str(model_dir), backend, precision, str(seconds), audio_kind,
                        ",".join(map(str, PARALLEL_STREAMS))], cores)
            rows.append({"what": f"{backend} {precision}, N threads x N streams, one engine", "cores": cores, **r})
    return rows


def _memory_rows(model_dir: Path, cpp_app: Path | None) -> list[dict]:
    from .bench_memory import DEFAULT_CPP_APP, cpp_app_peak

    if not (_has_form(model_dir, "executorch", "int8") and (model_dir / layout.DEMO / layout.DEMO_CLIP).is_file()):
        return []
    app = cpp_app or DEFAULT_CPP_APP
    return [{"what": f"C++ example app ({app.name}), streams the demo clip", **cpp_app_peak(model_dir, app)},
            {"what": "Python process that loads the engine and streams the demo clip",
             **_child(["--worker", "memory", str(model_dir)], 1)}]


def format_table(result: dict) -> str:
    lines = [f"{result['audio_s']:.0f} s of audio, 320 ms chunks; latency = one chunk through the engine",
             "", "| what | cores | median ms/chunk | p95 ms/chunk | RTF | bench worker's peak RSS MB |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['what']} | {r['cores']} | error: {r['error']} | | | |")
        else:
            lines.append(f"| {r['what']} | {r['cores']} | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | "
                         f"{r['rtf']:.4f} | {r['peak_rss_mb']:.0f} |")
    if result.get("decoding_rows"):
        kind = result["decoding_rows"][0].get("audio", "")
        lines += ["", f"decoding ({kind} audio): the CTC decoder's time per chunk against the model step's, same process",
                  "", "| decoding | cores | model ms/chunk | decoder ms/chunk | decoder / model |", "|---|---|---|---|---|"]
        for r in result["decoding_rows"]:
            if "error" in r:
                lines.append(f"| {r['what']} | {r['cores']} | error: {r['error']} | | |")
            else:
                lines.append(f"| {r['what']} | {r['cores']} | {r['model_ms_per_chunk']:.2f} | "
                             f"{r['decoder_ms_per_chunk']:.3f} | {100 * r['decoder_vs_model']:.1f} % |")
    if result.get("parallel_rows"):
        lines += ["", "streams side by side: N threads, each its own stream, on one engine (audio-s per wall s)",
                  "", "| what | cores | " + " | ".join(f"{n} streams" for n in PARALLEL_STREAMS) + " |",
                  "|---|---|" + "---|" * len(PARALLEL_STREAMS)]
        for r in result["parallel_rows"]:
            cells = (["error: " + r["error"]] + [""] * (len(PARALLEL_STREAMS) - 1) if "error" in r else
                     [f"{r['audio_s_per_s'][str(n)]:.0f}" for n in PARALLEL_STREAMS])
            lines.append(f"| {r['what']} | {r['cores']} | " + " | ".join(cells) + " |")
    if result.get("memory_rows"):
        lines += ["", "peak memory, each in its own process (ExecuTorch int8, the model's decoding defaults)",
                  "", "| process | peak RSS MB | includes |", "|---|---|---|"]
        for r in result["memory_rows"]:
            value = (f"{r['peak_rss_mb']:.1f}" if "peak_rss_mb" in r else
                     f"skipped: {r['skipped']}" if "skipped" in r else f"error: {r['error']}")
            lines.append(f"| {r['what']} | {value} | {r.get('includes', '')} |")
    if result["model_bytes"]:
        lines += ["", "| file | MB |", "|---|---|"]
        lines += [f"| {k} | {v / 1e6:.2f} |" for k, v in sorted(result["model_bytes"].items())]
    for k, v in result["ratios"].items():
        lines.append(f"\n{k}: {v:.2f}x")
    return "\n".join(lines)


def _worker_main(argv: list[str]) -> None:
    kind, rest = argv[0], argv[1:]
    if kind == "engine":
        out = worker_engine(rest[0], rest[1], rest[2], float(rest[3]), int(rest[4]), *rest[5:7])
    elif kind == "parallel":
        from .bench_parallel import parallel_throughput

        audio = (_demo_audio(rest[0], float(rest[3])) if rest[4] == "demo" else None)
        audio = _audio(float(rest[3])) if audio is None else audio
        out = parallel_throughput(rest[0], rest[1], rest[2], audio, tuple(int(n) for n in rest[5].split(",")))
    elif kind == "memory":
        from .bench_memory import python_stream_peak

        out = python_stream_peak(rest[0])
    elif kind == "torch":
        out = worker_torch(rest[0], float(rest[1]), int(rest[2]))
    else:
        out = worker_sherpa(rest[0], float(rest[1]), int(rest[2]), *rest[3:4])
    out["torch_loaded"] = "torch" in sys.modules  # runtime rows must say False: a runtime-only process
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        _worker_main(sys.argv[2:])
