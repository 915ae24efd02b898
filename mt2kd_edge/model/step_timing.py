"""Per-chunk wall time of a checkpoint's torch model stepping eagerly: `mt2kd-edge bench --checkpoint`'s
torch row. It lives in the model package (it needs torch), so bench.py, in the runtime API, imports no torch."""

from __future__ import annotations

import time

import numpy as np
import torch

from .checkpoint import load_checkpoint


def eager_step_seconds(checkpoint: str, audio: np.ndarray, threads: int) -> list[float]:
    """Seconds of each ``model.step`` over ``audio`` (zero-padded to whole chunks), ``threads`` torch threads."""
    torch.set_num_threads(threads)
    model, _ = load_checkpoint(checkpoint)
    samples = torch.from_numpy(audio)
    chunk = model.config.chunk_samples
    samples = torch.nn.functional.pad(samples, (0, -len(samples) % chunk))[None]
    states, steps = model.init_state(1), []
    with torch.inference_mode():
        for k in range(samples.shape[1] // chunk):
            t0 = time.perf_counter()
            _, states = model.step(samples[:, k * chunk:(k + 1) * chunk], states)
            steps.append(time.perf_counter() - t0)
    return steps
