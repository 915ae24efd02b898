"""Score checkpoints on one corpus's validation cuts, the ones stage 2 picks its best checkpoint by.

    python -m train.valid_loss models/default/student.pt exp/session/s14/best.pt \\
        --config train/configs/session.yaml --corpus data/corpus-session

Why: the validation cuts are a fixed ~5 % of *this* corpus's training cuts (by id), so a run's logged
valid/asr is not comparable with another session's build. Scoring the starting weights (the bundle) on
today's cuts says whether a run is moving forward or back from where it began, before it has finished.
Each checkpoint is loaded the way stage 2 loads ``init_from`` (a bundle's fp16 student.pt works too);
nothing is trained and nothing is written outside a temporary run directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from mt2kd_edge.fileio import atomic_write_text

from .config import TrainConfig
from .loop import Trainer


def valid_losses(checkpoint: Path, config: str | None, overrides: list[str]) -> dict[str, float]:
    """{"asr": ..., "at": ..., "score": ...}: the unscaled loss per task and the scaled sum (lower is better)."""
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f"{checkpoint}: no such checkpoint")
    with tempfile.TemporaryDirectory(prefix="valid_loss.") as run:
        cfg = TrainConfig.load(config, [*overrides, "stage=stage2", f"out={run}", f"init_from={checkpoint}",
                                        "steps=1", "prefetch=false"])
        per_task, score = Trainer(cfg).validate()
    return {**per_task, "score": score}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.valid_loss", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", type=Path, help="student checkpoints (best.pt, latest.pt, student.pt)")
    p.add_argument("--config", default="train/configs/session.yaml", help="the run's YAML config (loss scales, "
                   "batch limits; default: %(default)s)")
    p.add_argument("--corpus", help="corpus whose validation cuts to use (default: the config's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="another config override")
    p.add_argument("--json", type=Path, help="also write the scores here")
    args = p.parse_args(argv)
    overrides = [*([f"corpus={args.corpus}"] if args.corpus else []), *args.set]
    results = {}
    try:
        for ckpt in args.checkpoints:
            results[str(ckpt)] = valid_losses(ckpt, args.config, overrides)
            row = results[str(ckpt)]
            print(f"{ckpt}: " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()), flush=True)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
