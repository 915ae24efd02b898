"""How hard each loss pulls on the shared encoder: the gradient norm of every loss part with respect to
the encoder's parameters, over a few training batches, at the config's starting point (`init_from`).

All tasks share one AdamW, whose second moments are dominated by the loudest gradients, so a part whose
encoder gradients are much smaller barely moves the encoder. `loss_scales` balance that; this prints the
norms unscaled and scaled, so you can pick the scales before training:

    python -m train.gradient_norms --config train/configs/stage2.yaml --set batch_seconds=32

The run directory is a temporary one (the BPE model is trained there for stage 2), so nothing is resumed
from or written to the config's `out`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile

import torch

from .config import TrainConfig
from .loop import ENCODER_PREFIXES, RunDirBusy, Trainer


def encoder_gradient_norms(trainer: Trainer, batches: int) -> dict[str, list[float]]:
    """{loss part: [unscaled encoder gradient norm per batch]} over ``batches`` batches of every task."""
    encoder = [p for n, p in trainer.model.named_parameters() if n.startswith(ENCODER_PREFIXES)]
    norms: dict[str, list[float]] = {}
    for task, sampler in trainer.samplers.items():
        for _ in range(batches):
            batch = trainer.tasks.make_batch(task, sampler.next(), trainer.cfg.max_cut_seconds).to(trainer.device)
            parts = trainer.module(batch)
            for name, loss in parts.items():
                grads = torch.autograd.grad(loss, encoder, retain_graph=True, allow_unused=True)
                norm = math.sqrt(sum(float(g.pow(2).sum()) for g in grads if g is not None))
                norms.setdefault(name, []).append(norm)
    return norms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.gradient_norms", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML config (see train/configs/)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value")
    p.add_argument("--batches", type=int, default=2, help="batches per task (default 2)")
    args = p.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="mt2kd-gradnorms-") as out:
            cfg = TrainConfig.load(args.config, [*args.set, f"out={out}"])
            trainer = Trainer(cfg)
            try:
                norms = encoder_gradient_norms(trainer, args.batches)
            finally:
                if trainer.writer:  # its flush thread writes into the temporary directory
                    trainer.writer.close()
    except (ValueError, FileNotFoundError, RunDirBusy) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = {name: {"mean": sum(v) / len(v), "scaled_mean": cfg.loss_scales.get(name, 1.0) * sum(v) / len(v),
                     "per_batch": v} for name, v in norms.items()}
    print(json.dumps({"init_from": cfg.init_from, "loss_scales": cfg.loss_scales, "encoder_gradient_norms": report},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
