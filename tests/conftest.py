"""Shared test fixtures: test signals that need no data files."""

from __future__ import annotations

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
