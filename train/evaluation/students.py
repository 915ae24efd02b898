"""Evaluate a student in streaming mode, chunk by chunk with state, exactly as the runtime runs it:
WER on held-out sentences, macro mAP on held-out event clips, EER on held-out speaker trials.

    python -m train.evaluation.students --checkpoint exp/stage2/best.pt --corpus data/corpus-default
    python -m train.evaluation.students --model models/mine --precision int8 --compare fp32 --corpus ...

A checkpoint is stepped in torch; an exported model directory through ONNX Runtime or ExecuTorch
(the same step graph the C++ core runs). `--compare fp32` adds the int8-against-fp32 report
(greedy token error, top-tag agreement, embedding cosine) next to both precisions' scores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.model_layout import model_file

from train.data.layout import TRIALS, manifest_path

from . import metrics


def _cuts(path: Path, limit: int | None) -> list:
    from lhotse import CutSet

    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found")
    return list(CutSet.from_file(path))[:limit]


def _decode(log_probs: np.ndarray, tokens: list[str]) -> str:
    """Greedy CTC, detokenised by the same C++ function the runtime uses."""
    from .quantization import ctc_greedy
    from mt2kd_edge._core import detokenize

    return detokenize([tokens[i] for i in ctc_greedy(log_probs)])


def _outputs(runner, cut) -> dict[str, np.ndarray]:
    """Streaming outputs over the cut's real frames (the padded tail of the last chunk is dropped)."""
    from export.runners import stream

    audio = cut.load_audio()[0].astype(np.float32)
    out = stream(runner, audio)
    frames = -(-len(audio) // (runner.spec.chunk_samples // runner.spec.frames_per_chunk))
    return {"ctc_log_probs": out["ctc_log_probs"][:frames], "tag_probs": out["tag_probs"][:frames],
            "speaker_embedding": out["speaker_embedding"]}


def evaluate(runner, tokens: list[str] | None, labels: list[str] | None, corpus: Path, limit: int | None = None,
             keep_outputs: bool = False, tasks: tuple[str, ...] = ("asr", "at", "sv")) -> dict[str, Any]:
    """Score the given tasks (a single-task student has only its own head trained)."""
    result: dict[str, Any] = {}
    kept: list[dict] = []
    speech = _cuts(manifest_path(corpus, "speech", "test"), limit) if {"asr", "sv"} & set(tasks) else []
    refs, hyps, embeddings = [], [], {}
    for cut in speech:
        out = _outputs(runner, cut)
        if "asr" in tasks:
            refs.append(cut.supervisions[0].text)
            hyps.append(_decode(out["ctc_log_probs"], tokens))
        embeddings[cut.id] = out["speaker_embedding"]
        if keep_outputs:
            kept.append(out)
    if "asr" in tasks:
        result["wer"] = metrics.word_error_rate(refs, hyps)
        result["examples"] = [{"ref": r, "hyp": h} for r, h in list(zip(refs, hyps))[:5]]
        result["utterances"] = len(speech)
    trials = ([t for t in metrics.read_trials(corpus / TRIALS) if t[1] in embeddings and t[2] in embeddings]
              if "sv" in tasks else [])
    if trials:
        trial_labels, trial_scores = metrics.trial_scores(trials, embeddings)
        result["eer"] = metrics.eer(trial_labels, trial_scores)
        result["trials"] = len(trials)
        result["_trial_scores"] = (trial_labels, trial_scores)  # for DET curves; not part of the JSON
    if "at" in tasks:
        events = _cuts(manifest_path(corpus, "events", "test"), limit)
        index = {name: i for i, name in enumerate(labels)}
        truth, scores = np.zeros((len(events), len(labels))), np.zeros((len(events), len(labels)))
        for k, cut in enumerate(events):
            out = _outputs(runner, cut)
            scores[k] = out["tag_probs"].mean(0)
            for label in (cut.supervisions[0].custom or {}).get("labels", []):
                truth[k, index[label]] = 1.0
            if keep_outputs:
                kept.append(out)
        result["map"] = metrics.mean_average_precision(truth, scores)
        result["event_clips"] = len(events)
    if keep_outputs:
        result["_outputs"] = kept
    return result


def _onnx_step_graph(model, payload: dict):
    """The checkpoint's step graph exported to ONNX fp32: the same graph the runtime steps, and about 2.6x
    faster per chunk than torch eager (reports/bench_default.md: 3.73 vs 9.75 ms on one core)."""
    import tempfile

    import torch

    from export.metadata import Vocabulary, build_metadata
    from export.onnx_native import export_fp32
    from export.runners import OnnxRunner

    with tempfile.TemporaryDirectory(prefix="mt2kd-eval-") as folder, torch.no_grad():
        path = Path(folder) / model_file("onnx", "fp32")
        export_fp32(model, path, build_metadata(model, Vocabulary.from_checkpoint(payload, model),
                                                backend="onnx", precision="fp32"))
        return OnnxRunner(path)  # the session holds the graph in memory; the file can go


def _runner_for(args: argparse.Namespace, precision: str):
    from export.runners import ExecuTorchRunner, OnnxRunner, TorchRunner
    from mt2kd_edge.backends import find_model_file
    from mt2kd_edge.model_files import read_model_metadata

    if args.checkpoint:
        import torch

        from mt2kd_edge.model import load_checkpoint
        from mt2kd_edge.model.checkpoint import read_checkpoint

        torch.set_num_threads(1)  # one small step at a time: more threads only add contention

        model, _ = load_checkpoint(args.checkpoint)
        payload = read_checkpoint(args.checkpoint)
        if payload["extra"].get("config", {}).get("stage") == "stage1":
            raise ValueError(f"{args.checkpoint}: a stage-1 checkpoint has no trained task heads (evaluate stage 2)")
        for task, key, what in (("asr", "tokens", "tokens"), ("at", "labels", "tag labels")):
            if task in args.tasks and not payload.get(key):
                raise ValueError(f"{args.checkpoint}: carries no {what}, so it cannot be scored on {task} "
                                 f"(a single-task student? pass --tasks)")
        labels = [n for _, n in payload["labels"]] if payload.get("labels") else None
        if args.stepper == "torch":
            return TorchRunner(model), payload.get("tokens"), labels, str(args.checkpoint)
        return _onnx_step_graph(model, payload), payload.get("tokens"), labels, str(args.checkpoint)
    path = find_model_file(Path(args.model), args.backend, precision)
    meta = read_model_metadata(path)
    runner = OnnxRunner(path) if args.backend == "onnx" else ExecuTorchRunner(path)
    return runner, meta["tokens"], [lab["name"] for lab in meta["labels"]], str(path)


def _task_list(value: str) -> tuple[str, ...]:
    tasks = tuple(t.strip() for t in value.split(",") if t.strip())
    unknown = set(tasks) - {"asr", "at", "sv"}
    if not tasks or unknown:
        raise argparse.ArgumentTypeError(f"tasks are a comma-separated subset of asr,at,sv, not {value!r}")
    return tasks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.evaluation.students", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="a stage-2 checkpoint (stepped as its ONNX step graph, or torch with --stepper)")
    src.add_argument("--model", type=Path, help="an exported model directory")
    p.add_argument("--backend", choices=("onnx", "executorch"), default="onnx")
    p.add_argument("--stepper", choices=("onnx", "torch"), default="onnx",
                   help="how a --checkpoint is stepped: its step graph in ONNX Runtime (default, fast) or torch eager")
    p.add_argument("--precision", choices=("fp32", "int8"), default="fp32")
    p.add_argument("--compare", choices=("fp32",), help="also run fp32 and report int8 against it")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--tasks", type=_task_list, default=("asr", "at", "sv"),
                   help="comma-separated tasks to score (default asr,at,sv)")
    p.add_argument("--limit", type=int, help="at most this many utterances / clips per set (quick checks)")
    p.add_argument("--out", type=Path, help="write the JSON report here")
    p.add_argument("--scores", type=Path, help="write the speaker-trial labels and cosine scores here (.npz, for DET)")
    args = p.parse_args(argv)
    try:
        t0 = time.perf_counter()
        runner, tokens, labels, what = _runner_for(args, args.precision)
        report: dict[str, Any] = {"model": what, "corpus": str(args.corpus), "streaming": True,
                                  "command": " ".join(["python -m train.evaluation.students", *(argv or sys.argv[1:])])}
        scores = evaluate(runner, tokens, labels, args.corpus, args.limit, keep_outputs=bool(args.compare),
                          tasks=args.tasks)
        if args.compare:
            from .quantization import compare

            ref_runner, _, _, ref_what = _runner_for(args, args.compare)
            ref = evaluate(ref_runner, tokens, labels, args.corpus, args.limit, keep_outputs=True, tasks=args.tasks)
            report["reference"] = {"model": ref_what, **{k: v for k, v in ref.items() if not k.startswith("_")}}
            report["int8_vs_fp32"] = compare(ref.pop("_outputs"), scores["_outputs"]).as_dict()
        scores.pop("_outputs", None)
        trial_labels, trial_scores = scores.pop("_trial_scores", (None, None))
        if args.scores and trial_labels is not None:
            with atomic_write(args.scores) as f:
                np.savez(f, labels=trial_labels, scores=trial_scores)
        report.update(scores)
        report["seconds"] = round(time.perf_counter() - t0, 1)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=2)
    if args.out:
        with atomic_write(args.out, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
