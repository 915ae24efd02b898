"""Where turns end: the endpointer's settings scored on dev conversations, as the demo clip is laid out.

    python -m train.evaluation.endpointing --model models/default --corpus data/corpus-session
    python -m train.evaluation.endpointing --model DIR --corpus C --trailing-silence-ms 480,800 --speech-threshold 0.5,1

Each conversation is three turns by three dev speakers (fewer only in a corpus that has fewer), GAP_S of silence between them, with sound events
(training clips: the dev split has none; the test clips stay for the demo and the test scores) over the
first gap, the second turn and the third, as ``train.data.demo`` lays out the demo clip. Every clip goes
through ``Engine.events`` as ``mt2kd-edge run`` runs it, once per setting of the grid, and is scored on:
- turns found: a turn change counts as found when a final event ends between the end of one turn and
  ``LATE_MS`` after the start of the next (an endpoint needs the trailing silence, then a chunk boundary);
- false splits: finals that end anywhere else (inside a turn), except the last one at the end of input;
- exact: the share of conversations cut into exactly their turns;
- WER: of all finals joined, against the turns' text (a cut inside a word costs words).
The best setting has the most turns found less false splits, then the lowest WER. Nothing here is the
test split, so the endpointer's defaults (``runtime/include/mt2kd/endpointer.h``) can be chosen on it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mt2kd_edge.engine import Engine
from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.spec import SAMPLE_RATE

from train.data.demo import EVENTS, conversation
from train.data.layout import manifest_path

from . import metrics
from .students import DECODINGS

LATE_MS = 400  # how far into the next turn a turn's endpoint may land and still count as found
TURNS = 3
MAX_TURN_S = 5.0  # the demo's turns are at most this long


def conversations(corpus: Path, count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` dev conversations: {"audio", "turns" (placed), "events" (placed)}."""
    from lhotse import CutSet

    speech = [c for c in CutSet.from_file(manifest_path(corpus, "speech", "dev")) if c.duration <= MAX_TURN_S]
    events = list(CutSet.from_file(manifest_path(corpus, "events", "train")))
    by_speaker: dict[str, list] = {}
    for cut in sorted(speech, key=lambda c: c.id):
        by_speaker.setdefault(cut.supervisions[0].speaker, []).append(cut)
    speakers = sorted(by_speaker)
    if not speakers or not events:
        raise ValueError(f"{corpus}: needs dev speech of at most {MAX_TURN_S:g} s and training event clips "
                         f"(has {len(speech)} dev utterances, {len(events)} event clips)")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        # three different speakers where the dev set has them (a small test corpus may have one)
        who = [speakers[i] for i in rng.choice(len(speakers), TURNS, replace=len(speakers) < TURNS)]
        turns = [(spk, by_speaker[spk][int(rng.integers(len(by_speaker[spk])))]) for spk in who]
        sounds = [(events[int(rng.integers(len(events)))], turn, offset_s, snr_db) for _, turn, offset_s, snr_db in EVENTS]
        audio, placed_turns, placed_events = conversation(turns, sounds)
        out.append({"audio": audio, "turns": placed_turns, "events": placed_events})
    return out


def score(finals: list[dict], turns: list[dict]) -> dict[str, int]:
    """finals: {"end_ms", ...} of one clip in order; turns: placed turns -> counts for one conversation."""
    windows = [(1000 * a["end_s"], 1000 * b["start_s"] + LATE_MS) for a, b in zip(turns, turns[1:])]
    ends = [f["end_ms"] for f in finals[:-1]]  # the last final ends with the input: not a decision
    found = sum(any(lo <= e <= hi for e in ends) for lo, hi in windows)
    false = sum(not any(lo <= e <= hi for lo, hi in windows) for e in ends)
    return {"changes": len(windows), "found": found, "false_splits": false,
            "exact": int(found == len(windows) and false == 0 and len(finals) == len(turns))}


def run_setting(engine: Engine, clips: list[dict[str, Any]]) -> dict[str, Any]:
    totals = {"changes": 0, "found": 0, "false_splits": 0, "exact": 0}
    refs, hyps = [], []
    for clip in clips:
        finals = [{"end_ms": 1000 * e.end_s, "text": e.text} for e in engine.events([clip["audio"]], SAMPLE_RATE)
                  if e.type == "final"]
        for key, value in score(finals, clip["turns"]).items():
            totals[key] += value
        refs.append(" ".join(t["text"] for t in clip["turns"]))
        hyps.append(" ".join(f["text"] for f in finals))
    return {**totals, "turns_found": totals["found"] / max(1, totals["changes"]),
            "exact_share": totals["exact"] / max(1, len(clips)), "wer": metrics.word_error_rate(refs, hyps)}


def tune(engine: Engine, clips: list[dict[str, Any]], silences_ms: list[int], thresholds: list[float],
         votes: list[bool] = (False,)) -> dict:
    rows = []
    for vote, silence_ms, threshold in itertools.product(votes, silences_ms, thresholds):
        t0 = time.perf_counter()
        setting = {"tagger_vote_with_text": vote, "trailing_silence_ms": silence_ms, "speech_threshold": threshold}
        row = run_setting(engine.with_options(**setting), clips)
        rows.append({**setting, **row, "seconds": round(time.perf_counter() - t0, 1)})
        print(format_row(rows[-1]), file=sys.stderr, flush=True)
    best = max(rows, key=lambda r: (r["found"] - r["false_splits"], -r["wer"]))
    return {"conversations": len(clips), "late_ms": LATE_MS, "rows": rows, "best": best}


def format_row(r: dict) -> str:
    return (f"| {'yes' if r['tagger_vote_with_text'] else 'no'} | {r['trailing_silence_ms']} | {r['speech_threshold']:g} | {100 * r['turns_found']:.0f} % "
            f"({r['found']}/{r['changes']}) | {r['false_splits']} | {100 * r['exact_share']:.0f} % | "
            f"{100 * r['wer']:.1f} |")


def format_table(result: dict) -> str:
    lines = [f"{result['conversations']} dev conversations of {TURNS} turns; a turn change is found when a final "
             f"ends between the turns or up to {result['late_ms']} ms into the next", "",
             "| tagger_vote_with_text | trailing_silence_ms | speech_threshold | turn changes found | false splits | "
             "exact | WER % |", "|---|---|---|---|---|---|---|"]
    lines += [format_row(r) for r in result["rows"]]
    b = result["best"]
    lines += ["", f"best: tagger_vote_with_text {b['tagger_vote_with_text']}, trailing_silence_ms "
              f"{b['trailing_silence_ms']}, speech_threshold {b['speech_threshold']:g}"]
    return "\n".join(lines)


def _numbers(kind):
    def parse(text: str) -> list:
        try:
            return [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, got {text!r}") from None
    return parse


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluation.endpointing", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="an exported model directory")
    p.add_argument("--corpus", type=Path, required=True, help="a built corpus (its dev speech, training events)")
    p.add_argument("--backend", choices=("executorch", "onnx"), default="executorch")
    p.add_argument("--decoding", choices=tuple(DECODINGS), default="model",
                   help="model (default): model.json's beam and LM, as a plain `mt2kd-edge run`; greedy: beam 1")
    p.add_argument("--conversations", type=int, default=40, help="how many (default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--trailing-silence-ms", type=_numbers(int), default=[480, 640, 800, 1000])
    p.add_argument("--speech-threshold", type=_numbers(float), default=[0.5],
                   help="1 turns the tagger's vote off (blank runs alone)")
    p.add_argument("--tagger-vote-with-text", type=_numbers(int), default=[0, 1], metavar="0,1",
                   help="0: once a segment has words, blank runs alone end it (the shipped rule); 1: the tagger's "
                        "vote counts then too (the rule before session 8); default: both, side by side")
    p.add_argument("--out", type=Path, help="write the JSON report here")
    args = p.parse_args(argv)
    try:
        if args.conversations < 1:
            raise ValueError(f"--conversations must be 1 or more, got {args.conversations}")
        clips = conversations(args.corpus, args.conversations, args.seed)
        engine = Engine.from_dir(args.model, backend=args.backend, **DECODINGS[args.decoding])
        result = {"model": str(args.model), "backend": args.backend, "decoding": engine.decoding,
                  **tune(engine, clips, args.trailing_silence_ms, args.speech_threshold,
                                [bool(v) for v in args.tagger_vote_with_text])}
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(format_table(result))
    if args.out:
        with atomic_write(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
