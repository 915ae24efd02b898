"""Command line shared by `python -m train.stage1` and `python -m train.stage2`."""

from __future__ import annotations

import argparse
import sys

from .config import TrainConfig
from .loop import RunDirBusy, Trainer


def main(stage: str, doc: str, argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=f"python -m train.{stage}", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML config (see train/configs/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set steps=500 --set model.d_model=144")
    args = p.parse_args(argv)
    try:
        cfg = TrainConfig.load(args.config, [*args.set, f"stage={stage}"])
        result = Trainer(cfg).run()
    except (ValueError, FileNotFoundError, RunDirBusy) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"done: step {result['step']}, best validation loss {result['best']:.4f}")
    return 0
