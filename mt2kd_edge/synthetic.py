"""Synthetic test audio that needs no data files (numpy + scipy only, no torch)."""

from __future__ import annotations

import numpy as np

from .spec import SAMPLE_RATE


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    """A voiced, speech-like signal: a glottal pulse train with a gliding pitch through three
    moving formant resonators, syllable-rate amplitude modulation and pauses.

    Not speech: it has speech's spectral shape and rhythm, which is what front-end and streaming
    checks need. Returns float32 in [-1, 1] at 16 kHz.
    """
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))  # pitch glide, Hz
    phase = np.cumsum(f0 / SAMPLE_RATE)
    source = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64) + 0.02 * rng.standard_normal(n)
    out = np.zeros(n)
    block = 800  # formants move every 50 ms
    for start in range(0, n, block):
        seg = source[start:start + block]
        y = np.zeros_like(seg)
        for fc, bw in ((rng.uniform(300, 900), 80), (rng.uniform(900, 2400), 120), (rng.uniform(2400, 3500), 200)):
            r = np.exp(-np.pi * bw / SAMPLE_RATE)  # two-pole resonator at fc with bandwidth bw
            y += lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / SAMPLE_RATE), r * r], seg)
        out[start:start + block] = y
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t) + 0.3, 0, None)  # syllables and short pauses
    out *= envelope
    return (0.5 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)
