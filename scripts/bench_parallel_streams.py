"""Throughput of N streams decoded from N threads on one Engine (issue 18), until `mt2kd-edge bench --json`
reports it: each thread runs `Engine.events` over the same clip; the engine's per-caller program copies are
created in a warm-up round first.

    .venv/bin/python scripts/bench_parallel_streams.py --model models/default --threads-option 1
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from mt2kd_edge.audio_io import read_audio
from mt2kd_edge.engine import Engine


def run_streams(engine: Engine, audio: np.ndarray, rate: int, streams: int) -> float:
    """Seconds for `streams` threads to decode `audio` once each, side by side."""
    workers = [threading.Thread(target=lambda: list(engine.events([audio], rate))) for _ in range(streams)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--backend", default="executorch", choices=["executorch", "onnx"])
    parser.add_argument("--clip", help="audio file (default: the model's demo clip)")
    parser.add_argument("--repeat", type=int, default=2, help="the clip this many times over, per stream")
    parser.add_argument("--threads-option", type=int, default=1, help="Engine threads= (intra-op threads)")
    parser.add_argument("--streams", default="1,2,4")
    args = parser.parse_args()
    audio, rate = read_audio(args.clip or f"{args.model}/demo/clip.wav")
    audio = np.tile(audio, args.repeat)
    engine = Engine.from_dir(args.model, backend=args.backend, threads=args.threads_option)
    counts = [int(n) for n in args.streams.split(",")]
    run_streams(engine, audio, rate, max(counts))  # warm-up: every caller's program copy exists
    seconds = len(audio) / rate
    for n in counts:
        took = run_streams(engine, audio, rate, n)
        print(f"{args.backend} threads={args.threads_option}: {n} streams x {seconds:.0f} s in {took:.2f} s "
              f"-> {n * seconds / took:.0f} audio-s/s")


if __name__ == "__main__":
    main()
