"""`mt2kd-edge bench-serve`: N concurrent clients, each streaming a different file paced in real time,
against a `mt2kd-edge serve` child process on the loopback interface.

It reports, per client count: how many clients' final events equal the offline run of their file
(Engine.events, what `run --jsonl` prints), the latency from audio sent to partial received (p50, p95,
max over every partial of every client), the server's mean batch size and its CPU use.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from . import model_layout as layout
from .client import CHUNK_MS, astream_audio
from .proc_memory import rss_mb
from .spec import SAMPLE_RATE

RATES = (SAMPLE_RATE, 48000, 8000, 44100)  # client k sends at RATES[k % 4]: the server resamples all but the first
START_SPREAD_S = 0.32  # clients start spread over one model chunk, as independent users would
SCORE_TOLERANCE = 0.02  # tag / speaker scores: batched int8 ONNX quantizes each batch with one scale


def make_clips(source: str | os.PathLike, count: int, seconds: float, seed: int = 0) -> list[tuple[np.ndarray, int]]:
    """``count`` different clips of ``seconds`` each, cut from the ``source`` recording (looped) at
    different offsets and gains, at the rates of RATES: -> [(float32 samples, rate)], quantized to
    16 bits (so a 16-bit WAV file of one holds exactly these samples)."""
    from scipy.signal import resample_poly

    from .audio_io import read_audio

    demo, rate = read_audio(source)
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    looped = np.concatenate([demo] * (n // len(demo) + 2))
    clips = []
    for k in range(count):
        offset = int(rng.integers(0, len(demo)))
        x = looped[offset:offset + n] * float(rng.uniform(0.4, 1.1))
        out_rate = RATES[k % len(RATES)]
        if out_rate != rate:
            g = np.gcd(out_rate, rate)
            x = resample_poly(x, out_rate // g, rate // g)
        x = np.clip(np.round(x * 32768.0), -32768, 32767) / 32768.0
        clips.append((x.astype(np.float32), out_rate))
    return clips


def offline_events(engine, samples: np.ndarray, rate: int) -> list[dict]:
    """What `run --jsonl` prints for this audio (its 100 ms pieces), as JSON objects without "file"."""
    piece = rate * CHUNK_MS // 1000
    chunks = (samples[i:i + piece] for i in range(0, len(samples), piece))
    return [json.loads(json.dumps(e.as_json())) for e in engine.events(chunks, sample_rate=rate)]


def same_events(got: list[dict], want: list[dict], kinds: tuple[str, ...], tolerance: float = SCORE_TOLERANCE) -> bool:
    """Equal events of ``kinds``, in order, with scores within ``tolerance``."""
    got, want = [e for e in got if e["type"] in kinds], [e for e in want if e["type"] in kinds]
    if len(got) != len(want):
        return False
    for a, b in zip(got, want):
        if {k: v for k, v in a.items() if k != "score"} != {k: v for k, v in b.items() if k != "score"}:
            return False
        if abs(a.get("score", 0.0) - b.get("score", 0.0)) > tolerance:
            return False
    return True


class ServerProcess:
    """`mt2kd-edge serve --port 0` as a child process; ``url`` once it listens."""

    def __init__(self, *args: str, env: dict | None = None) -> None:
        cmd = [sys.executable, "-m", "mt2kd_edge.cli", "serve", "--port", "0", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        line = self.proc.stdout.readline()
        match = re.search(r"http://([\d.]+):(\d+)/", line)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"the server did not start: {line}{self.proc.stderr.read()[-3000:]}")
        self.host, self.port = match.group(1), int(match.group(2))
        self.http = f"http://{self.host}:{self.port}"
        self.url = f"ws://{self.host}:{self.port}/ws"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.http}/stats", timeout=10) as r:
            return json.loads(r.read())

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> str:
        """Stop it (SIGTERM) -> what it logged."""
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.stop()


async def run_clients(url: str, clips: list[tuple[np.ndarray, int]], realtime: bool = True, **options) -> list:
    """Every clip through its own connection at once (starts spread over START_SPREAD_S)."""
    spread = START_SPREAD_S / max(1, len(clips))
    return await asyncio.gather(*[astream_audio(url, x, rate, realtime, start_delay_s=k * spread, **options)
                                  for k, (x, rate) in enumerate(clips)])


def run_bench_serve(model_dir: str, client_counts: tuple[int, ...], seconds: float, backend: str = "onnx",
                    precision: str | None = None, threads: int = 1, verify: bool = True, beam_size: int | None = None,
                    max_batch: int = 0) -> dict:
    from .engine import Engine

    speakers = Path(model_dir) / layout.DEMO / layout.DEMO_SPEAKERS  # the demo's voices, so speaker events happen too
    speakers = speakers if speakers.is_file() else Path(model_dir) / "no-speakers.json"
    engine = Engine.from_dir(model_dir, backend=backend, precision=precision, threads=threads, verify=verify,
                             speakers=speakers, **({} if beam_size is None else {"beam_size": beam_size}))
    runs = []
    for count in client_counts:
        clips = make_clips(Path(model_dir) / layout.DEMO / layout.DEMO_CLIP, count, seconds)
        reference = [offline_events(engine, x, rate) for x, rate in clips]
        args = ["--model", str(model_dir), "--backend", backend, "--threads", str(threads), "--max-batch", str(max_batch),
                "--max-connections", str(count), "--speakers", str(speakers)]
        if precision:
            args += ["--precision", precision]
        if beam_size is not None:
            args += ["--beam-size", str(beam_size)]
        if not verify:
            args.append("--no-verify")
        with ServerProcess(*args) as server:
            cpu0, t0 = server.cpu_s(), time.monotonic()
            results = asyncio.run(run_clients(server.url, clips))
            wall, cpu = time.monotonic() - t0, server.cpu_s() - cpu0
            stats, rss = server.stats(), server.rss_mb()
        latencies = np.array([t for r in results for t in r.partial_latencies_s()])
        native = np.array([t for r, (_, rate) in zip(results, clips) if rate == engine.sample_rate
                           for t in r.partial_latencies_s()])  # no resampler (it holds back a few ms of audio)
        runs.append({
            "clients": count, "audio_s_per_client": seconds, "wall_s": round(wall, 2),
            "finals_equal": sum(same_events(r.events, ref, ("final",), 0.0) for r, ref in zip(results, reference)),
            "all_events_equal": sum(same_events(r.events, ref, ("partial", "final", "tag", "speaker"))
                                    for r, ref in zip(results, reference)),
            "partials": int(len(latencies)),
            "latency_ms_p50": round(float(np.percentile(latencies, 50)) * 1000, 1) if len(latencies) else None,
            "latency_ms_p95": round(float(np.percentile(latencies, 95)) * 1000, 1) if len(latencies) else None,
            "latency_ms_max": round(float(latencies.max()) * 1000, 1) if len(latencies) else None,
            "latency_ms_p95_native_rate": round(float(np.percentile(native, 95)) * 1000, 1) if len(native) else None,
            "decode_ms_per_chunk": round(stats["decode_s"] / max(1, stats["chunks"]) * 1000, 2),
            "mean_batch": round(stats["chunks"] / max(1, stats["batches"]), 2), "max_batch": stats["max_batch"],
            # the server's CPU time per second of audio: the share of one core a real-time stream costs
            "server_cpu_s": round(cpu, 2), "server_core_pct_per_stream": round(100 * cpu / (count * seconds), 2),
            "server_rss_mb": round(rss, 1), "faults": stats["faults"]})
    return {"model": str(model_dir), "backend": backend, "threads": threads, "beam_size": beam_size,
            "max_batch": max_batch, "cpus": os.cpu_count(), "runs": runs}


def format_report(report: dict) -> str:
    lines = [f"bench-serve: {report['model']} ({report['backend']}, {report['threads']} thread(s), beam "
             f"{report['beam_size'] or 'of the model'}, max batch {report['max_batch'] or 'all'}, {report['cpus']} CPUs); each client "
             "streams its own clip paced in real time over loopback", "",
             "| clients | audio s each | finals = offline | all events = offline (scores +-0.02) | partials | "
             "latency p50 ms | p95 ms | max ms | p95 ms, 16 kHz clients | mean batch | decode ms per chunk | "
             "server core % per stream | server RSS MB | faults | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        lines.append(f"| {r['clients']} | {r['audio_s_per_client']:g} | {r['finals_equal']}/{r['clients']} | "
                     f"{r['all_events_equal']}/{r['clients']} | {r['partials']} | {r['latency_ms_p50']} | "
                     f"{r['latency_ms_p95']} | {r['latency_ms_max']} | {r['latency_ms_p95_native_rate']} | "
                     f"{r['mean_batch']} | {r['decode_ms_per_chunk']} | "
                     f"{r['server_core_pct_per_stream']} | {r['server_rss_mb']} | {r['faults']} | {r['wall_s']} |")
    lines += ["", "latency: a partial's arrival minus when the client sent the piece holding its last audio (end_ms); "
              "clients at 48, 8 and 44.1 kHz also wait for the resampler's lookahead (often the next 100 ms piece). "
              "decode ms per chunk: the decoder thread's time per stream-chunk, waits for the CPU included; "
              "server core % per stream: its CPU time per second of audio"]
    return "\n".join(lines)
