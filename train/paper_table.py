"""The MT2KD results table: train and evaluate every row, resumably, then write
reports/paper_table.{json,md}, the training curves and the speaker DET curve.

    python -m train.paper_table --corpus data/corpus-default --exp exp/table --jobs 2   (make paper-table)
    python -m train.paper_table --rows asr-only,at-only      # train/evaluate only these rows
    python -m train.paper_table --report-only                # rebuild the report from finished rows
    python -m train.paper_table --budget 1500,1500 ...       # a fair budget: every row S1 + S2 steps in all

Rows (the paper's Table 1, on our corpus and student size):
  1. single-task students from scratch (ASR, AT, SV), each given as many steps on its own task as that
     task gets inside the multi-task runs (with --budget: as many as the MT2KD row spends in all);
  2. multi-task training from scratch (the stage-2 recipe, no initialisation);
  3. MT2KD stage 1 only, read out through light task heads trained over the frozen stage-1 encoder;
  4. MT2KD: stage 1, then stage-2 multi-task fine-tuning.
Ablation rows (the stage-2 recipe's encoder lr and AT loss scale) train only when named in --rows, and are
reported in a table of their own.
Every run is a normal `python -m train.stageN` process with its own log and latest/best checkpoints, so an
interrupted table resumes where it stopped; finished runs leave `done.json` and are not retrained.
Evaluation streams every held-out set chunk by chunk through the student (train.evaluation.students).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .config import TASKS


@dataclass(frozen=True)
class Row:
    name: str  # run directory under --exp
    title: str  # row label in the table
    stage: str
    overrides: tuple[str, ...] = ()
    after: str = ""  # the run whose best.pt this one starts from
    reports: tuple[str, ...] = TASKS  # the tasks this row is scored on
    evaluate: bool = True
    ablation: bool = False  # a recipe variant: trained only when named in --rows, reported in its own table


STAGE1_BEST = "init_from={exp}/mt2kd-stage1/best.pt"
# From scratch there is no distilled encoder to protect: the whole model learns at the full lr.
SCRATCH = ("init_from=", "encoder_lr_scale=1")
UNIT_LOSS_SCALES = "loss_scales={asr: 1.0, at: 1.0, sv: 1.0}"
# With one task a loss scale only rescales Adam's step (and the clip): single-task rows keep 1.
SINGLE = (*SCRATCH, UNIT_LOSS_SCALES)
# The multi-task stage-2 runs draw asr:at:sv batches 2:1:1 over 1200 steps (train/configs/stage2.yaml):
# 600 ASR, 300 AT and 300 SV steps, which is what each single-task student gets.
ROWS = (
    Row("mt2kd-stage1", "MT2KD stage 1 (distillation)", "stage1", ("task_ratio={kd: 1.0}",), evaluate=False),
    Row("mt2kd", "MT2KD (stage 1 + stage 2)", "stage2", (STAGE1_BEST,), after="mt2kd-stage1"),
    Row("multitask-scratch", "multi-task from scratch", "stage2", SCRATCH),
    Row("mt2kd-stage1-heads", "MT2KD stage 1 only (light heads)", "stage2",
        (STAGE1_BEST, "freeze_encoder=true", "steps=600"), after="mt2kd-stage1"),
    Row("asr-only", "single-task ASR", "stage2", (*SINGLE, "task_ratio={asr: 1.0}", "steps=600"),
        reports=("asr",)),
    Row("at-only", "single-task AT", "stage2", (*SINGLE, "task_ratio={at: 1.0}", "steps=300"),
        reports=("at",)),
    Row("sv-only", "single-task SV", "stage2", (*SINGLE, "task_ratio={sv: 1.0}", "steps=300"),
        reports=("sv",)),
    # What the stage-2 recipe (encoder lr x0.1, AT loss x10) was chosen against; NOTES.md tells the story.
    Row("mt2kd-full-lr", "MT2KD, stage 2 at the full encoder lr, AT loss x1", "stage2",
        (STAGE1_BEST, "encoder_lr_scale=1", UNIT_LOSS_SCALES), after="mt2kd-stage1", ablation=True),
    Row("mt2kd-at-loss-x1", "MT2KD, stage 2 with encoder lr x0.1, AT loss x1", "stage2",
        (STAGE1_BEST, UNIT_LOSS_SCALES), after="mt2kd-stage1", ablation=True),
    Row("multitask-scratch-at-loss-x1", "multi-task from scratch, AT loss x1", "stage2", (*SCRATCH, UNIT_LOSS_SCALES),
        ablation=True),
)
BY_NAME = {r.name: r for r in ROWS}
METRIC = {"asr": "wer", "at": "map", "sv": "eer"}


def budget_steps(row: Row, budget: tuple[int, int] | None) -> list[str]:
    """``--budget S1,S2``: stage 1 trains S1 steps and every run continuing it S2 more, so MT2KD spends S1 + S2;
    every run from scratch (multi-task or single-task) gets all S1 + S2 on its own. A single-task student then
    has at least as many steps on its task as MT2KD spends on all three (issue 14's fair budget)."""
    if budget is None:
        return []
    stage1, stage2 = budget
    if row.stage == "stage1":
        return [f"steps={stage1}"]
    return [f"steps={stage2 if row.after else stage1 + stage2}"]


def _budget(text: str) -> tuple[int, int]:
    try:
        stage1, stage2 = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--budget takes STAGE1_STEPS,STAGE2_STEPS (e.g. 1500,1500), got {text!r}")
    if stage1 < 1 or stage2 < 1:
        raise argparse.ArgumentTypeError(f"--budget steps must be >= 1, got {text!r}")
    return stage1, stage2


def train_command(row: Row, args: argparse.Namespace) -> list[str]:
    sets = [f"out={args.exp}/{row.name}", f"corpus={args.corpus}", f"threads={max(1, args.threads // args.jobs)}",
            *(o.replace("{exp}", str(args.exp)) for o in row.overrides), *budget_steps(row, args.budget)]
    if row.stage == "stage1":
        sets.append(f"targets={args.targets}")
    sets += args.set  # last, so they win over the row's own settings
    config = args.stage1_config if row.stage == "stage1" else args.stage2_config
    return [sys.executable, "-m", f"train.{row.stage}", "--config", str(config), *[a for s in sets for a in ("--set", s)]]


def eval_command(row: Row, args: argparse.Namespace) -> list[str]:
    run = args.exp / row.name
    return [sys.executable, "-m", "train.evaluation.students", "--checkpoint", str(run / "best.pt"),
            "--corpus", str(args.corpus), "--tasks", ",".join(row.reports),
            "--out", str(run / "eval.json"), "--scores", str(run / "sv_scores.npz"),
            *(["--limit", str(args.eval_limit)] if args.eval_limit else [])]


def needs_eval(run: Path) -> bool:
    report, best = run / "eval.json", run / "best.pt"
    return not report.is_file() or report.stat().st_mtime < best.stat().st_mtime


def job_script(row: Row, args: argparse.Namespace) -> list[list[str]]:
    """The commands one row runs, in order: training (a no-op once done.json exists), then evaluation."""
    run = args.exp / row.name
    steps = [] if (run / "done.json").is_file() else [train_command(row, args)]
    if row.evaluate and (steps or needs_eval(run)):
        steps.append(eval_command(row, args))
    return steps


def run_rows(rows: list[Row], args: argparse.Namespace) -> None:
    """Run rows in `args.jobs` parallel lanes, each row after the run it starts from (which may also be
    training in another process, e.g. a second `paper_table` invocation: then this one waits for it)."""
    pending, running, finished = list(rows), {}, set()
    failed: list[str] = []
    while pending or running:
        finished |= {r.name for r in ROWS if (args.exp / r.name / "done.json").is_file()}
        for name, (proc, queue, log) in list(running.items()):
            if proc.poll() is None:
                continue
            if proc.returncode != 0:
                failed.append(f"{name} (exit {proc.returncode}, see {log.name})")
                del running[name]
            elif queue:
                running[name] = (_start(queue[0], log), queue[1:], log)
            else:
                finished.add(name)
                del running[name]
                print(f"[{time.strftime('%H:%M:%S')}] {name}: done", flush=True)
        ours = {r.name for r in pending} | set(running)
        for row in [r for r in pending if r.after and r.after not in finished and r.after not in ours
                    and not _busy(args.exp / r.after)]:
            failed.append(f"{row.name} (needs {row.after}, which has not finished; run it first)")
            pending.remove(row)
        ready = [r for r in pending if not r.after or r.after in finished]
        while ready and len(running) < args.jobs:
            row = ready.pop(0)
            pending.remove(row)
            queue = job_script(row, args)
            if not queue:
                finished.add(row.name)
                continue
            (args.exp / row.name).mkdir(parents=True, exist_ok=True)
            log = open(args.exp / row.name / "run.log", "a")
            print(f"[{time.strftime('%H:%M:%S')}] {row.name}: {' '.join(queue[0][1:])}  (log: {log.name})", flush=True)
            running[row.name] = (_start(queue[0], log), queue[1:], log)
        time.sleep(2)
    if failed:
        raise RuntimeError("rows failed: " + "; ".join(failed))


def _busy(run: Path) -> bool:
    """Whether a training process holds the run directory's lock (train/loop.py takes it)."""
    import fcntl

    if not (run / "train.lock").is_file():
        return False
    with open(run / "train.lock") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def _start(cmd: list[str], log) -> subprocess.Popen:
    log.write(f"\n$ {' '.join(cmd)}\n")
    log.flush()
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


# ---------------- the report ----------------
def load_results(args: argparse.Namespace) -> dict:
    rows = {}
    for row in ROWS:
        report = args.exp / row.name / "eval.json"
        if not row.evaluate or not report.is_file():
            continue
        data = json.loads(report.read_text())
        rows[row.name] = {"title": row.title, "tasks": list(row.reports), "steps": _steps(args.exp / row.name),
                          "finished": (args.exp / row.name / "done.json").is_file(),
                          **{METRIC[t]: data.get(METRIC[t]) for t in row.reports},
                          "examples": data.get("examples", [])[:2] if "asr" in row.reports else []}
    teachers = {}
    for report in reversed(args.teachers):  # the first file named wins where two report the same teacher
        if report.is_file():
            teachers.update({k: v for k, v in json.loads(report.read_text()).items() if isinstance(v, dict)})
    return {"corpus": str(args.corpus), "budget": list(args.budget) if args.budget else None,
            "rows": rows, "teachers": _teacher_scores(teachers),
            "goals": goals(rows), "command": "python -m train.paper_table " + " ".join(sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d")}


def _steps(run: Path) -> int:
    """The last step the run logged (its best.pt is from at most this step)."""
    log = run / "log.jsonl"
    steps = [json.loads(line).get("step", 0) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    return max(steps, default=0)


def _teacher_scores(t: dict) -> dict:
    out = {}
    if "whisper" in t:
        out["Whisper tiny.en (ASR teacher)"] = {"wer": t["whisper"]["test"]["WER"]}
    if "resemblyzer" in t:
        out["resemblyzer (SV teacher)"] = {"eer": t["resemblyzer"]["EER"]}
    if "tagger" in t:
        out[f"in-project AT teacher ({t['tagger'].get('clips', '?')} test clips of its own report)"] = {"map": t["tagger"].get("mAP")}
    return out


def single_task(rows: dict) -> dict:
    """The single-task reference for each task (its own student)."""
    return {t: rows.get(f"{t}-only", {}).get(METRIC[t]) for t in TASKS}


def goals(rows: dict) -> dict:
    """The paper's headline claims, as measured deltas, for each MT2KD row (stage 1 + stage 2, and the
    stage-1 encoder with light heads); a row or reference that is missing is left out."""
    scratch, single = rows.get("multitask-scratch", {}), single_task(rows)
    out = {}
    for name in ("mt2kd", "mt2kd-stage1-heads"):
        mt2kd, claims = rows.get(name, {}), {}
        if mt2kd and scratch:
            claims["beats_scratch"] = {"wer": mt2kd["wer"] < scratch["wer"], "map": mt2kd["map"] > scratch["map"],
                                       "eer": mt2kd["eer"] < scratch["eer"]}
        if mt2kd and all(v is not None for v in single.values()):
            rel_wer = (mt2kd["wer"] - single["asr"]) / max(single["asr"], 1e-9)
            map_pts, eer_pts = 100 * (single["at"] - mt2kd["map"]), 100 * (mt2kd["eer"] - single["sv"])
            claims["vs_single_task"] = {"wer_relative_increase": rel_wer, "map_points_lost": map_pts,
                                        "eer_points_lost": eer_pts,
                                        "met": {"wer": rel_wer <= 0.04, "map": map_pts <= 1.9, "eer": eer_pts <= 0.23}}
        if claims:
            out[name] = claims
    return out


def _table_line(r: dict) -> str:
    steps = f"{r['steps']}" + ("" if r.get("finished") else " (stopped early)")
    return f"| {r['title']} | {steps} | {_pct(r.get('wer'))} | {_pct(r.get('map'))} | {_pct(r.get('eer'))} |"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def markdown(result: dict) -> str:
    lines = ["# MT2KD results table", "",
             f"Corpus `{result['corpus']}` (synthetic speech, held-out speakers; see reports/corpus_default). "
             "Every student is evaluated streaming, chunk by chunk with state, as the runtime runs it.", "",
             *([f"Fair budget (`--budget {result['budget'][0]},{result['budget'][1]}`): stage 1 {result['budget'][0]} "
                f"steps and stage 2 {result['budget'][1]}; every run from scratch, single-task or multi-task, "
                f"{sum(result['budget'])} steps.", ""] if result.get("budget") else []),
             "| model | steps | WER % (lower is better) | mAP % (higher) | EER % (lower) |", "|---|---|---|---|---|"]
    ablations = {n for n in result["rows"] if BY_NAME[n].ablation}
    lines += [_table_line(r) for n, r in result["rows"].items() if n not in ablations]
    for name, r in result["teachers"].items():
        lines.append(f"| *{name}*, full context | | {_pct(r.get('wer'))} | {_pct(r.get('map'))} | {_pct(r.get('eer'))} |")
    if ablations:
        lines += ["", "## Stage-2 recipe ablations", "",
                  "The recipe above fine-tunes the encoder at 0.1x the heads' lr and scales the AT loss by 10 "
                  "(at the stage-1 start its encoder gradients are 12-20x smaller than CTC's and the speaker loss's, "
                  "`python -m train.gradient_norms`, and Adam's shared second moments drown them). These runs show each choice's effect "
                  "(`python -m train.paper_table --rows NAME`).", "",
                  "| run | steps | WER % | mAP % | EER % |", "|---|---|---|---|---|"]
        lines += [_table_line(r) for n, r in result["rows"].items() if n in ablations]
    lines += ["", "## Against the paper's claims", ""]
    for name, g in result["goals"].items():
        title = result["rows"][name]["title"]
        if "beats_scratch" in g:
            lines.append(f"- {title} better than multi-task from scratch: "
                         + ", ".join(f"{k.upper()} {'yes' if v else 'no'}" for k, v in g["beats_scratch"].items()))
        if "vs_single_task" in g:
            v = g["vs_single_task"]
            lines.append(f"- {title} against the single-task students: WER {100 * v['wer_relative_increase']:+.1f} % "
                         f"relative (goal <= +4 %), mAP {-v['map_points_lost']:+.1f} points (goal >= -1.9), "
                         f"EER {v['eer_points_lost']:+.2f} points (goal <= +0.23)")
    lines += ["", f"Made by `{result['command']}` on {result['date']}. Plots: `paper_table_curves.png` "
              "(training curves), `paper_table_det.png` (speaker DET).", ""]
    return "\n".join(lines)


def write_report(args: argparse.Namespace) -> dict:
    import numpy as np

    from mt2kd_edge.fileio import atomic_write

    from .evaluation.metrics import plot_det
    from .plots import plot_runs

    result = load_results(args)
    args.reports.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.reports / "paper_table.json", "w") as f:
        json.dump(result, f, indent=2)
    with atomic_write(args.reports / "paper_table.md", "w") as f:
        f.write(markdown(result))
    runs = [args.exp / r.name for r in ROWS if not r.ablation and (args.exp / r.name / "log.jsonl").is_file()]
    if runs:
        plot_runs(runs, args.reports / "paper_table_curves.png")
    curves = {}
    for row in ROWS:
        scores = args.exp / row.name / "sv_scores.npz"
        if "sv" in row.reports and not row.ablation and scores.is_file():
            with np.load(scores) as z:
                curves[row.title] = (z["labels"], z["scores"])
    if curves:
        plot_det(curves, args.reports / "paper_table_det.png")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.paper_table", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=Path("data/corpus-default"))
    p.add_argument("--targets", type=Path, default=Path("exp/teachers-default/targets"),
                   help="the stage-1 teacher target cache (python -m train.targets)")
    p.add_argument("--exp", type=Path, default=Path("exp/table"), help="one run directory per row goes here")
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--teachers", type=Path, nargs="+",
                   default=[Path("reports/teachers_default/teachers.json"), Path("reports/teachers.json")],
                   help="teacher reports whose scores are added to the table (the first wins per teacher)")
    p.add_argument("--jobs", type=int, default=2, help="runs trained side by side (the CPU threads are split)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for all jobs together")
    p.add_argument("--stage1-config", type=Path, default=Path("train/configs/stage1.yaml"))
    p.add_argument("--stage2-config", type=Path, default=Path("train/configs/stage2.yaml"),
                   help="every stage-2 row starts from this config, then its own settings (see ROWS)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a config override for every run, after the rows' own (e.g. --set steps=20 for a smoke run)")
    p.add_argument("--budget", type=_budget, metavar="S1,S2",
                   help="fair budget: stage 1 S1 steps, runs continuing it S2 more, runs from scratch S1+S2 "
                   "(default: each config's steps, single-task rows matched to their task's share)")
    p.add_argument("--eval-limit", type=int, help="score at most N utterances / clips per held-out set (smoke runs)")
    p.add_argument("--rows", help=f"comma-separated subset of: {', '.join(BY_NAME)}")
    p.add_argument("--report-only", action="store_true", help="only rebuild the report from finished rows")
    p.add_argument("--no-report", action="store_true", help="train and evaluate, but leave the report alone")
    args = p.parse_args(argv)
    try:
        rows = [BY_NAME[n] for n in args.rows.split(",")] if args.rows else [r for r in ROWS if not r.ablation]
    except KeyError as e:
        p.error(f"unknown row {e}; rows are {', '.join(BY_NAME)}")
    try:
        if not args.report_only:
            run_rows(rows, args)
        if args.no_report:
            return 0
        result = write_report(args)
    except (RuntimeError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
