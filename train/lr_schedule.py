"""The learning-rate schedule of every trainer here (stages 1 and 2, the single-task teachers)."""

from __future__ import annotations

import math


def warmup_cosine(step: int, peak: float, warmup_steps: int, total_steps: int, floor: float) -> float:
    """Linear warm-up to ``peak`` over ``warmup_steps``, then a half cosine down to ``floor * peak`` at
    ``total_steps``, flat after. Each trainer keeps its own floor (stages 0.05, teachers 0.02): their
    runs and reports were made with those."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))
