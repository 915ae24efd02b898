"""Training curves from one or more runs' `log.jsonl` (train and validation losses per task).

    python -m train.plots exp/stage1 exp/stage2 --out reports/training_curves.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def read_log(run: Path) -> list[dict]:
    path = run / "log.jsonl" if run.is_dir() else run
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_runs(runs: list[Path], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logs = {run.name if run.is_dir() else run.parent.name: read_log(run) for run in runs}
    keys = sorted({k for rows in logs.values() for r in rows for k in r if k.startswith(("train/", "valid/"))})
    tasks = sorted({k.split("/", 1)[1] for k in keys})
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.5 * len(tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for name, rows in logs.items():
            for split, style in (("train", "-"), ("valid", "o--")):
                pts = [(r["step"], r[f"{split}/{task}"]) for r in rows if f"{split}/{task}" in r]
                if pts:
                    ax.plot(*zip(*pts), style, label=f"{name} {split}", markersize=3)
        ax.set_title(task)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp" + out.suffix)
    fig.savefig(tmp, dpi=110)
    tmp.replace(out)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.plots", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, help="run directories (or log.jsonl files)")
    p.add_argument("--out", type=Path, default=Path("reports/training_curves.png"))
    args = p.parse_args(argv)
    try:
        print(plot_runs(args.runs, args.out))
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
