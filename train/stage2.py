"""Stage 2: multi-task supervised fine-tuning (CTC over BPE, event BCE, AAM-softmax speakers).

    python -m train.stage2 --config train/configs/stage2.yaml --set init_from=exp/stage1/best.pt
    torchrun --nproc_per_node 2 -m train.stage2 --config ...      # DDP (gloo on CPU, NCCL on GPUs)

Each loss applies only to its own labelled data; batches are drawn per task in `task_ratio`.
Checkpoints: OUT/latest.pt (resumed automatically) and OUT/best.pt (lowest validation loss), both
written atomically and carrying the BPE tokens and event labels, ready for `python -m export`.
"""

from __future__ import annotations

import sys

from .run_stage import main

if __name__ == "__main__":
    sys.exit(main("stage2", __doc__))
