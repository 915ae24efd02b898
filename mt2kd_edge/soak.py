"""Soak benchmark: stream a long recording through one stream and watch memory and time.

The goal is flat memory: after the first minutes (allocator warm-up), resident memory must not
grow with the amount of audio. It also splits decoding time between the model's step and the
core's own per-chunk work (buffering, state stacking, decoding, tagging, endpointing).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .engine import Engine
from .proc_memory import rss_mb
from .spec import SAMPLE_RATE
from .synthetic import speech_like

PIECE_MS = 100  # audio arrives in 100 ms pieces
LOOP_S = 20.0  # the source loops a 20 s signal: speech-like audio, then noise, then silence


def source_loop(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    speech = speech_like(LOOP_S / 2, seed=seed)
    noise = (0.05 * rng.standard_normal(int(LOOP_S / 4 * SAMPLE_RATE))).astype(np.float32)
    silence = np.zeros(int(LOOP_S / 4 * SAMPLE_RATE), np.float32)
    return np.concatenate([speech, noise, silence])


@dataclass
class SoakReport:
    backend: str
    audio_s: float
    wall_s: float
    real_time_factor: float
    rss_after_first_minute_mb: float
    rss_end_mb: float
    rss_growth_mb: float  # end minus after the first minute
    model_ms_per_chunk: float
    core_ms_per_chunk: float  # the runtime's own work per chunk, beside the model's
    segments: int
    rss_by_audio_minute: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def soak(engine: Engine, seconds: float, progress=None) -> SoakReport:
    total_pieces = int(seconds * 1000 / PIECE_MS) if seconds == seconds else 0  # NaN: none
    if total_pieces < 1:
        raise ValueError(f"soak needs at least {PIECE_MS} ms of audio, got {seconds:g} s")
    loop = source_loop()
    piece = SAMPLE_RATE * PIECE_MS // 1000
    stream = engine.create_stream()
    rss_by_minute: list[float] = []

    def pieces():
        for i in range(total_pieces):
            at = (i * piece) % len(loop)
            yield loop[at:at + piece]
            # resumed once the piece is decoded and its events are out: measure after it
            if (i + 1) % (60_000 // PIECE_MS) == 0:
                rss_by_minute.append(round(rss_mb(), 1))
                if progress:
                    progress(len(rss_by_minute))

    start = time.perf_counter()
    # Through Engine.events, as an app streams: the event rules (and anything they keep) are soaked too.
    for _ in engine.events(pieces(), SAMPLE_RATE, stream=stream):
        pass
    wall = time.perf_counter() - start
    segments = stream.transcript().segment  # the stream reset itself once per endpoint
    timing = engine.timing()
    chunks = max(timing["chunks"], 1)
    first = rss_by_minute[0] if rss_by_minute else rss_mb()
    end = rss_mb()
    return SoakReport(engine.backend_name, total_pieces * PIECE_MS / 1000, wall, wall / (total_pieces * PIECE_MS / 1000),
                      first, end, end - first, 1000 * timing["model_s"] / chunks, 1000 * timing["core_s"] / chunks,
                      segments, rss_by_minute)
