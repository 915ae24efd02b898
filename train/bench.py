"""``python -m train.bench``: training throughput, in audio seconds per second, variants side by side.

A step is what training does: draw and load a batch, forward, backward, clip, optimizer step. Each
variant is a set of config overrides on the same config and corpus; the variants take turns round by
round (A B C A B C ...), so a machine that gets busier slows them all alike and the ratios hold.

    python -m train.bench --config train/configs/stage2.yaml --corpus data/corpus-default
    python -m train.bench --config train/configs/stage2.yaml --variant old="bucket_batches=1 prefetch=false fft_frontend=false"

Audio seconds count real samples only (not padding); ``padding`` is the share of batch samples that is.
Run it on idle cores: pause a background build first (kill -STOP <pid>, then kill -CONT <pid>).
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mt2kd_edge.spec import SAMPLE_RATE

DEFAULT_VARIANTS = {
    "before": "bucket_batches=1 prefetch=false precision=fp32",
    "bucketing": "bucket_batches=8 prefetch=false precision=fp32",
    "+prefetch": "bucket_batches=8 prefetch=true precision=fp32",
    "+bf16": "bucket_batches=8 prefetch=true precision=bf16",
}


def make_trainer(config: str, overrides: list[str], out: Path):
    from .config import TrainConfig
    from .loop import Trainer

    cfg = TrainConfig.load(config, [*overrides, f"out={out}", "init_from=", "valid_every=1000000000",
                                    "save_every=1000000000"])
    return Trainer(cfg)


def time_steps(trainer, steps: int) -> dict:
    """Wall seconds, real audio seconds and padded samples over ``steps`` full training steps."""
    audio_s = padded = real = 0.0
    start = time.perf_counter()
    load_s = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        batch, plan = trainer.next_batch()
        load_s += time.perf_counter() - t0
        trainer.optimise(batch, plan)
        real += float(batch.num_samples.sum())
        padded += batch.audio.numel()
    wall = time.perf_counter() - start
    audio_s = real / SAMPLE_RATE
    return {"wall_s": wall, "audio_s": audio_s, "waiting_for_data_s": load_s, "padding": 1 - real / padded}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m train.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="train/configs/stage2.yaml", help="training config (default: stage 2)")
    p.add_argument("--corpus", help="corpus folder (default: the config's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override for every variant")
    p.add_argument("--variant", action="append", default=[], metavar='NAME="KEY=VALUE ..."',
                   help="a variant's overrides (repeatable; default: before, bucketing, +prefetch, +fft)")
    p.add_argument("--steps", type=int, default=6, help="timed steps per variant and round (default 6)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of every variant (default 3)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps per variant first (default 2)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    for name in ("steps", "rounds"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        p.error("--warmup must be >= 0")
    variants = {}
    for spec in args.variant:
        name, sep, sets = spec.partition("=")
        if not sep or not name:
            p.error(f"--variant {spec!r}: expected NAME=\"KEY=VALUE ...\"")
        variants[name] = sets
    args.variants = variants or DEFAULT_VARIANTS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common = list(args.set) + ([f"corpus={args.corpus}"] if args.corpus else [])
    results: dict[str, list[dict]] = {name: [] for name in args.variants}
    with tempfile.TemporaryDirectory(prefix="mt2kd-train-bench-") as tmp:
        trainers = {}
        for i, (name, sets) in enumerate(args.variants.items()):
            trainers[name] = make_trainer(args.config, common + shlex.split(sets), Path(tmp) / f"v{i}")
            if args.warmup:
                time_steps(trainers[name], args.warmup)
        threads = trainers[next(iter(trainers))].cfg.threads
        for r in range(args.rounds):
            for name, trainer in trainers.items():
                results[name].append(time_steps(trainer, args.steps))
                last = results[name][-1]
                print(f"round {r + 1}/{args.rounds} {name:>12}: {last['audio_s'] / last['wall_s']:7.1f} audio-s/s",
                      file=sys.stderr)
    base = next(iter(results))
    rates = {n: statistics.median(x["audio_s"] / x["wall_s"] for x in rs) for n, rs in results.items()}
    rows = {n: {"audio_s_per_s": round(rates[n], 1), "vs_first": round(rates[n] / rates[base], 3),
                "padding": round(statistics.mean(x["padding"] for x in rs), 3),
                "waiting_for_data_share": round(sum(x["waiting_for_data_s"] for x in rs) / sum(x["wall_s"] for x in rs), 3),
                "overrides": args.variants[n]} for n, rs in results.items()}
    print(f"\ntraining throughput: {args.config}, {threads} threads, median of {args.rounds} rounds x {args.steps} steps")
    print(f"{'variant':>12} {'audio-s/s':>10} {'x first':>8} {'padding':>8} {'data wait':>10}  overrides")
    for n, row in rows.items():
        print(f"{n:>12} {row['audio_s_per_s']:>10.1f} {row['vs_first']:>8.2f} {100 * row['padding']:>7.1f}% "
              f"{100 * row['waiting_for_data_share']:>9.1f}%  {row['overrides']}")
    if args.json:
        from mt2kd_edge.fileio import atomic_write

        with atomic_write(args.json, "w") as f:
            json.dump({"config": args.config, "threads": threads, "steps": args.steps, "rounds": args.rounds,
                       "variants": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
