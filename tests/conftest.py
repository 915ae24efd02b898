"""Shared test fixtures: test signals that need no data files."""

from __future__ import annotations

import numpy as np
import pytest

SAMPLE_RATE = 16000


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """A voiced, speech-like signal: a glottal pulse train with a gliding pitch through three
    moving formant resonators, syllable-rate amplitude modulation and pauses. float32 in [-1, 1]."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = np.cumsum(f0 / SAMPLE_RATE)
    source = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64) + 0.02 * rng.standard_normal(n)
    out = np.zeros(n)
    block = 800  # formants move every 50 ms
    for start in range(0, n, block):
        seg = source[start:start + block]
        y = np.zeros_like(seg)
        for fc, bw in ((rng.uniform(300, 900), 80), (rng.uniform(900, 2400), 120), (rng.uniform(2400, 3500), 200)):
            r = np.exp(-np.pi * bw / SAMPLE_RATE)
            y += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / SAMPLE_RATE), r * r], seg)
        out[start:start + block] = y
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t) + 0.3, 0, None)  # syllables and short pauses
    out *= envelope
    return (0.5 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)


@pytest.fixture
def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "speech": speech_like(2.3),
        "noise": (0.1 * rng.standard_normal(int(1.7 * SAMPLE_RATE))).astype(np.float32),
        "silence": np.zeros(int(0.9 * SAMPLE_RATE), dtype=np.float32),
    }
