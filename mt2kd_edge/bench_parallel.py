"""Streams decoded side by side on one Engine, for `mt2kd-edge bench` (issue 18).

N Python threads each stream the same audio through their own stream of one shared engine, with the
model's decoding defaults (as `run`). Engine.decode releases the GIL, and the ExecuTorch backend gives
each concurrent caller its own program instance, so N threads can use N cores. Reported: audio seconds
decoded per wall second for each N, after a warm-up round that creates every caller's program copy.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .spec import SAMPLE_RATE


def _round(engine, audio: np.ndarray, streams: int) -> float:
    """Wall seconds for ``streams`` threads to decode ``audio`` once each, side by side."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in engine.events([audio], SAMPLE_RATE):
                pass
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(e)

    workers = [threading.Thread(target=work) for _ in range(streams)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def parallel_throughput(model_dir: str, backend: str, precision: str, audio: np.ndarray,
                        counts: tuple[int, ...]) -> dict:
    from .engine import Engine

    engine = Engine.from_dir(model_dir, backend=backend, precision=precision, threads=1)
    _round(engine, audio, max(counts))  # warm-up: one program copy per concurrent caller
    seconds = len(audio) / SAMPLE_RATE
    rates = {}
    for n in counts:
        rates[str(n)] = n * seconds / _round(engine, audio, n)
    return {"audio_s_per_stream": seconds, "audio_s_per_s": rates, "decoding": engine.decoding,
            "speedup": {n: r / rates[str(counts[0])] for n, r in rates.items()}}
