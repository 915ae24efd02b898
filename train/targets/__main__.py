"""``python -m train.targets``: step 2 of the teacher chain, cache the teachers' targets for the stage-1 pool."""

from __future__ import annotations

import sys
from pathlib import Path

from train.teachers.chain import NOTHING_DOWNLOADED, add_teacher_options, parser

DESCRIPTION = """Run Whisper tiny.en (ASR), the AT teacher and resemblyzer (SV) over the stage-1 pool
(CORPUS/manifests/pool_cuts_train.jsonl.gz) with 2 worker processes, into OUT/targets/: shard-*.h5 arrays +
pool_cuts_train_targets.jsonl.gz (the pool cuts with custom fields "whisper" (TemporalArray, 50 Hz), "tagger",
"speaker"). Resumes shard by shard."""

EPILOG = f"""examples:
  python -m train.targets --corpus data/corpus-default --out exp/teachers-default \\
      --at-checkpoint exp/teachers-small/at_teacher/model.pt
  python -m train.targets ... --onnx-teacher my_tagger.json   # add an external ONNX teacher
before: python -m train.teachers.singletask; next: python -m train.evaluation.teachers, python -m train.targets.bench

{NOTHING_DOWNLOADED}"""


def main(argv: list[str] | None = None) -> int:
    p = parser("python -m train.targets", DESCRIPTION, EPILOG)
    add_teacher_options(p)
    p.add_argument("--workers", type=int, default=2, help="worker processes, 1 thread each (default 2)")
    p.add_argument("--teachers", default="whisper,tagger,speaker",
                   help="comma list of whisper, tagger, speaker (default all three)")
    p.add_argument("--onnx-teacher", type=Path, action="append", default=[],
                   help="JSON OnnxTeacherConfig of an extra external teacher (repeatable)")
    p.add_argument("--shard-size", type=int, default=64, help="cuts per shard (unit of resume)")
    p.add_argument("--limit", type=int, default=None, help="only the first N pool cuts")
    args = p.parse_args(argv)

    from .extract import run_extract

    run_extract(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
