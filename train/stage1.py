"""Stage 1: multi-teacher distillation (MT2KD) on the unlabelled pool, from cached targets.

    python -m train.stage1 --config train/configs/stage1.yaml --set targets=exp/teachers/targets
    torchrun --nproc_per_node 2 -m train.stage1 --config ...

Every batch carries the three teachers' targets (`python -m train.targets`); the loss is
the scaled sum (`loss_scales: {asr, at, sv}`) of the three distillation losses. The best
checkpoint initialises stage 2 (`--set init_from=exp/stage1/best.pt`).
"""

from __future__ import annotations

import sys

from .run_stage import main

if __name__ == "__main__":
    sys.exit(main("stage1", __doc__))
