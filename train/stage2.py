"""Stage 2: multi-task supervised fine-tuning (CTC over BPE, event BCE, AAM-softmax speakers).

    python -m train.stage2 --config train/configs/stage2.yaml --set corpus=data/corpus-default
    torchrun --nproc_per_node 2 -m train.stage2 --config ...      # DDP (gloo on CPU, NCCL on GPUs)

Checkpoints: OUT/latest.pt (resumed automatically) and OUT/best.pt (lowest validation loss), both
written atomically and carrying the BPE tokens and event labels, ready for `python -m export`.
"""

from __future__ import annotations

import argparse
import sys

from .config import TrainConfig
from .loop import Trainer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.stage2", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML config (see train/configs/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set steps=500 --set model.d_model=144")
    args = p.parse_args(argv)
    try:
        cfg = TrainConfig.load(args.config, [*args.set, "stage=stage2"])
        result = Trainer(cfg).run()
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"done: step {result['step']}, best validation loss {result['best']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
