"""``python -m train.teachers STEP ...``: the teacher chain's old single entry, kept as a thin forwarder.

Each step has its own entry point now (train/teachers/chain.py); this runs it with the arguments after STEP,
exactly as ``python -m <its module> ...`` would, so the commands recorded in older reports still run.
"""

from __future__ import annotations

import argparse
import runpy
import sys

from .chain import STEPS

EPILOG = """steps (run in this order; each resumes where it stopped):
  train-at   python -m train.teachers.singletask: train the in-project audio-tagging teacher (--task ctc|speaker
             for the ASR / speaker teachers) on the events train split; writes OUT/at_teacher/
  extract    python -m train.targets: run Whisper tiny.en (ASR), the AT teacher and resemblyzer (SV) over the
             stage-1 pool (CORPUS/manifests/pool_cuts_train.jsonl.gz) into OUT/targets/
  score      python -m train.evaluation.teachers: WER of Whisper, EER of resemblyzer, mAP of the AT teacher;
             writes REPORTS/teachers.{json,md}
  bench      python -m train.targets.bench: stage-1 student step speed, cached targets vs teachers on the fly

`python -m MODULE --help` lists a step's options.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.teachers", description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=STEPS, help="the chain step to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="that step's arguments")
    args = p.parse_args(argv)
    module = STEPS[args.step]
    print(f"note: python -m train.teachers {args.step} is now python -m {module}", file=sys.stderr)
    sys.argv = [module, *args.args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)  # the step's own `sys.exit(main())`
    return 0


if __name__ == "__main__":
    sys.exit(main())
