"""``python -m train.teachers.singletask``: step 1 of the teacher chain, train an in-project teacher."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from ..chain import parser, teacher_dir

DESCRIPTION = """Train the in-project audio-tagging teacher (non-causal, 17.9M parameters, >= 3x the 5.4M student)
on the events train split (clips + mixtures) with mixup, SpecAugment and class-balanced sampling; writes
OUT/at_teacher/{model.pt,last.pt,train.log}. --task ctc|speaker trains the in-project ASR (character CTC) /
speaker teachers instead (OUT/ctc_teacher/, OUT/speaker_teacher/). Resumes where it stopped."""

EPILOG = """examples:
  python -m train.teachers.singletask --corpus data/corpus-small --out exp/teachers-small
  python -m train.teachers.singletask --corpus data/corpus-small --out exp/t --max-steps 50  # quick look
next: python -m train.targets (the chain: train/teachers/chain.py)"""


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m train.teachers.singletask", DESCRIPTION, EPILOG)
    p.add_argument("--task", default="tag", choices=["tag", "ctc", "speaker"])
    p.add_argument("--max-steps", type=int, default=None, help="override the config's step count")
    p.add_argument("--tiny", action="store_true", help="the test-size model (seconds)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = p.parse_args(argv)

    import torch

    from .config import SingleTaskConfig, tiny_train_config
    from .training import train

    torch.set_num_threads(args.threads)
    if args.tiny:
        cfg = tiny_train_config(args.task)
    else:
        cfg = SingleTaskConfig(task=args.task)
        if args.task == "ctc":
            cfg = replace(cfg, encoder=replace(cfg.encoder, subsampling=4), crop_s=0.0)
        elif args.task == "speaker":
            cfg = replace(cfg, crop_s=2.0)
    if args.max_steps:
        cfg = replace(cfg, max_steps=args.max_steps)
    summary = train(cfg, args.corpus, teacher_dir(args.out, args.task))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
