"""Stage-2 training on the `ci` corpus with a tiny model: losses fall, checkpoints resume exactly,
DDP runs with two CPU processes, and the result exports and runs in the runtime."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mt2kd_edge.model import load_checkpoint
from mt2kd_edge.model.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "train" / "configs" / "tiny.yaml")


def stage2(corpus: Path, out: Path, *sets: str, launcher: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    cmd = [*(launcher or (sys.executable,)), "-m", "train.stage2", "--config", TINY,
           "--set", f"corpus={corpus}", "--set", f"out={out}", *[a for s in sets for a in ("--set", s)]]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def log_means(out: Path, key: str) -> list[float]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [r[key] for r in rows if key in r]


@pytest.fixture(scope="module")
def trained(ci_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("stage2") / "run"
    done = stage2(ci_corpus, out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_losses_fall_on_every_task(trained):
    for task in ("asr", "at", "sv"):
        values = log_means(trained, f"train/{task}")
        assert len(values) >= 3, task
        assert sum(values[-2:]) / 2 < 0.9 * values[0], (task, values)


def test_checkpoints_carry_what_export_needs(trained, tmp_path):
    for name in ("latest.pt", "best.pt"):
        assert (trained / name).is_file()
    payload = read_checkpoint(trained / "best.pt")
    model, extra = load_checkpoint(trained / "latest.pt")
    assert payload["tokens"][0] == "<blk>" and len(payload["tokens"]) == model.config.vocab_size
    assert [name for _, name in payload["labels"]][0] == "Speech"
    assert extra["step"] == 40 and extra["speakers"]
    from export import model_dir as md
    from mt2kd_edge.engine import Engine
    from mt2kd_edge.synthetic import speech_like

    md.export_checkpoint(trained / "best.pt", tmp_path / "model", md.ExportOptions(forms=("onnx-fp32",),
                                                                                   log=lambda *_: None))
    engine = Engine.from_dir(tmp_path / "model", backend="onnx")
    events = list(engine.events([speech_like(2.0)]))
    assert engine.labels[0] == "Speech" and all(e.type in ("partial", "final", "tag") for e in events)


def test_resume_continues_exactly_where_it_stopped(ci_corpus, trained, tmp_path):
    resumed = tmp_path / "resumed"
    part = stage2(ci_corpus, resumed, "stop_after_steps=13")  # stops mid-way, like an interrupted run
    assert part.returncode == 0, part.stderr[-2000:]
    assert load_checkpoint(resumed / "latest.pt")[1]["step"] == 13
    cont = stage2(ci_corpus, resumed)  # the same command again picks up from latest.pt
    assert cont.returncode == 0, cont.stderr[-2000:]
    a, _ = load_checkpoint(trained / "latest.pt")
    b, extra = load_checkpoint(resumed / "latest.pt")
    assert extra["step"] == 40
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.allclose(pa, pb, atol=1e-5), name


def test_a_bundled_student_continues_training_with_its_vocabulary(ci_corpus, trained, tmp_path):
    """train.bundle --weights ships fp16 weights + the BPE model; a run started from them keeps that BPE."""
    from mt2kd_edge.model_layout import BPE as BPE_FILE, WEIGHTS as WEIGHTS_FILE
    from train.bundle import ship_weights

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    ship_weights(trained / "best.pt", bundle)
    assert (bundle / WEIGHTS_FILE).stat().st_size < 0.6 * (trained / "best.pt").stat().st_size  # no optimizer
    shipped, _ = load_checkpoint(bundle / WEIGHTS_FILE)
    original, _ = load_checkpoint(trained / "best.pt")
    for (name, a), (_, b) in zip(original.state_dict().items(), shipped.state_dict().items()):
        assert b.dtype == a.dtype and torch.allclose(a, b, rtol=2e-3, atol=1e-4), name
    cont = tmp_path / "continued"
    done = stage2(ci_corpus, cont, f"init_from={bundle / WEIGHTS_FILE}", "steps=4")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (cont / "bpe.model").read_bytes() == (trained / BPE_FILE).read_bytes()
    (bundle / BPE_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="BPE model"):
        ship_weights(bundle / WEIGHTS_FILE, tmp_path)


def test_two_process_ddp_with_gloo(ci_corpus, tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun missing from the environment"
    out = tmp_path / "ddp"
    done = stage2(ci_corpus, out, "steps=6", "valid_every=6", "save_every=6",
                  launcher=(torchrun, "--standalone", "--nproc_per_node", "2"))
    assert done.returncode == 0, done.stderr[-3000:]
    _, extra = load_checkpoint(out / "latest.pt")
    assert extra["step"] == 6


def test_config_errors_are_clear(ci_corpus, tmp_path):
    done = stage2(ci_corpus, tmp_path / "x", "stepz=3")
    assert done.returncode == 2 and "unknown config keys ['stepz']" in done.stderr
    done = stage2(tmp_path / "no-corpus", tmp_path / "y")
    assert done.returncode == 2 and "build the corpus" in done.stderr
    done = stage2(ci_corpus, tmp_path / "t", "steps=abc")
    assert done.returncode == 2 and "config key 'steps' must be int, got 'abc'" in done.stderr
    done = stage2(ci_corpus, tmp_path / "z", "device=tpu")
    assert done.returncode == 2 and "device must be auto, cpu or cuda" in done.stderr
    if not torch.cuda.is_available():
        done = stage2(ci_corpus, tmp_path / "w", "device=cuda")
        assert done.returncode == 2 and "torch sees no CUDA GPU" in done.stderr


def test_gradient_norms_report_every_loss_part_unscaled_and_scaled(ci_corpus):
    cmd = [sys.executable, "-m", "train.gradient_norms", "--config", TINY, "--set", f"corpus={ci_corpus}",
           "--set", "loss_scales={asr: 1.0, at: 10.0, sv: 1.0}", "--batches", "1"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    norms = json.loads(done.stdout)["encoder_gradient_norms"]
    assert set(norms) == {"asr", "at", "sv"}
    for part, n in norms.items():
        assert len(n["per_batch"]) == 1 and 0 < n["mean"] < float("inf"), (part, n)
    assert norms["at"]["scaled_mean"] == pytest.approx(10 * norms["at"]["mean"])


# ---- stage 1: distillation from a real (small) target cache, then stage 2 from its weights ----

@pytest.fixture(scope="module")
def target_cache(ci_corpus, tmp_path_factory):
    pytest.importorskip("faster_whisper", reason="SKIPPED LOUDLY: faster-whisper missing (make setup)")
    pytest.importorskip("resemblyzer", reason="SKIPPED LOUDLY: resemblyzer missing (make setup)")
    from train.targets.extract import POOL_MANIFEST, TeacherSetup, extract_pool
    from train.teachers.singletask.config import tiny_train_config
    from train.teachers.singletask.training import train

    tmp = tmp_path_factory.mktemp("teachers")
    train(tiny_train_config("tag", max_steps=10), ci_corpus, tmp / "tagger", progress=False)
    setup = TeacherSetup(at_checkpoint=str(tmp / "tagger" / "model.pt"), whisper_window_s=5)
    extract_pool(ci_corpus / "manifests" / POOL_MANIFEST, tmp / "targets", setup, workers=2, shard_size=8,
                 limit=16, progress=False)
    return tmp / "targets"


def stage1(corpus: Path, targets: Path, out: Path, *sets: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "train.stage1", "--config", TINY, "--set", f"corpus={corpus}",
           "--set", f"targets={targets}", "--set", f"out={out}", "--set", "task_ratio={kd: 1.0}",
           *[a for s in sets for a in ("--set", s)]]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_stage1_distils_all_three_teachers_then_stage2_starts_from_it(ci_corpus, target_cache, tmp_path):
    out1 = tmp_path / "stage1"
    done = stage1(ci_corpus, target_cache, out1, "steps=30", "valid_every=30", "save_every=30")
    assert done.returncode == 0, done.stderr[-3000:]
    for part in ("asr", "at", "sv"):
        values = log_means(out1, f"train/{part}")
        assert sum(values[-2:]) / 2 < 0.95 * values[0], (part, values)
    model1, extra = load_checkpoint(out1 / "best.pt")
    assert read_checkpoint(out1 / "best.pt")["tokens"] is None  # stage 1 knows no vocabulary yet
    out2 = tmp_path / "stage2"
    done = stage2(ci_corpus, out2, f"init_from={out1 / 'best.pt'}", "steps=4", "valid_every=4", "save_every=4")
    assert done.returncode == 0, done.stderr[-3000:]
    model2, _ = load_checkpoint(out2 / "latest.pt")
    # the distillation heads are untouched by stage 2 (no loss uses them), so they prove the start
    assert torch.equal(model1.distill.speaker.weight, model2.distill.speaker.weight)
    assert not torch.equal(model1.encoder.layers[0].ff1[1].weight, model2.encoder.layers[0].ff1[1].weight)
    # a gentler encoder lr: its own optimizer group at lr x scale; at scale 0 the encoder stays stage 1's
    out3 = tmp_path / "stage2-gentle"
    done = stage2(ci_corpus, out3, f"init_from={out1 / 'best.pt'}", "steps=4", "valid_every=4", "save_every=4",
                  "encoder_lr_scale=0")
    assert done.returncode == 0, done.stderr[-3000:]
    model3, extra3 = load_checkpoint(out3 / "latest.pt")
    assert all(torch.equal(a, b) for a, b in zip(model1.encoder.state_dict().values(),
                                                 model3.encoder.state_dict().values()))
    encoder_group, heads_group = extra3["optimizer"]["param_groups"]
    assert encoder_group["lr"] == 0 < heads_group["lr"]


def test_stage1_without_a_cache_says_how_to_make_one(ci_corpus, tmp_path):
    done = stage1(ci_corpus, tmp_path / "none", tmp_path / "o")
    assert done.returncode == 2 and "python -m train.targets" in done.stderr


def test_streaming_evaluation_of_a_trained_export_with_the_int8_report(ci_corpus, trained, tmp_path):
    from export import model_dir as md

    md.export_checkpoint(trained / "best.pt", tmp_path / "model",
                         md.ExportOptions(forms=("onnx-fp32", "onnx-int8"), log=lambda *_: None))
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "train.evaluation.students", "--model", str(tmp_path / "model"),
                           "--precision", "int8", "--compare", "fp32", "--corpus", str(ci_corpus), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["streaming"] and 0 <= report["wer"] and 0 <= report["map"] <= 1 and 0 <= report["eer"] <= 1
    assert report["utterances"] > 0 and report["event_clips"] > 0 and report["trials"] > 0
    q = report["int8_vs_fp32"]
    assert q["clips"] == report["utterances"] + report["event_clips"] and q["min_embedding_cosine"] > 0.9
    assert report["reference"]["model"].endswith("model.fp32.onnx")
    # the checkpoint (torch) and its fp32 export score the same in streaming mode
    done = subprocess.run([sys.executable, "-m", "train.evaluation.students", "--checkpoint", str(trained / "best.pt"),
                           "--corpus", str(ci_corpus)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    torch_report = json.loads(done.stdout)
    assert torch_report["wer"] == report["reference"]["wer"]
    assert abs(torch_report["map"] - report["reference"]["map"]) < 1e-4


def test_training_curves_plot(trained, tmp_path):
    out = tmp_path / "curves.png"
    done = subprocess.run([sys.executable, "-m", "train.plots", str(trained), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


# ---- the results table: every row trains, evaluates and reports; a rerun retrains nothing ----

def test_paper_table_trains_every_row_and_resumes_without_retraining(ci_corpus, target_cache, tmp_path):
    from train.paper_table import ROWS

    exp, reports = tmp_path / "exp", tmp_path / "reports"
    cmd = [sys.executable, "-m", "train.paper_table", "--corpus", str(ci_corpus), "--targets", str(target_cache),
           "--exp", str(exp), "--reports", str(reports), "--teachers", str(tmp_path / "no-teachers.json"),
           "--stage1-config", TINY, "--stage2-config", TINY, "--jobs", "2", "--eval-limit", "12",
           "--set", "steps=4", "--set", "valid_every=2", "--set", "save_every=2"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads((reports / "paper_table.json").read_text())
    assert set(result["rows"]) == {r.name for r in ROWS if r.evaluate and not r.ablation}
    assert "ablations" not in (reports / "paper_table.md").read_text()  # opt-in: none was named
    assert result["rows"]["asr-only"]["wer"] >= 0 and 0 <= result["rows"]["at-only"]["map"] <= 1
    assert 0 <= result["rows"]["mt2kd"]["eer"] <= 1
    assert set(result["goals"]) == {"mt2kd", "mt2kd-stage1-heads"}
    assert set(result["goals"]["mt2kd"]) == {"beats_scratch", "vs_single_task"}
    assert "| MT2KD (stage 1 + stage 2) |" in (reports / "paper_table.md").read_text()
    for png in ("paper_table_curves.png", "paper_table_det.png"):
        assert (reports / png).stat().st_size > 10_000
    # the light-heads row trains only the heads: its encoder is stage 1's, bit for bit
    stage1_model, _ = load_checkpoint(exp / "mt2kd-stage1" / "best.pt")
    heads_model, _ = load_checkpoint(exp / "mt2kd-stage1-heads" / "latest.pt")
    assert all(torch.equal(a, b) for a, b in zip(stage1_model.encoder.state_dict().values(),
                                                 heads_model.encoder.state_dict().values()))
    assert json.loads((exp / "mt2kd-stage1-heads" / "done.json").read_text())["step"] == 4
    # rerun: every row is done and evaluated, so nothing trains or evaluates again
    stamps = {p: p.stat().st_mtime for p in exp.glob("*/*.pt")} | {p: p.stat().st_mtime for p in exp.glob("*/eval.json")}
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert stamps == {p: p.stat().st_mtime for p in stamps}
    # an ablation trains only when named, and is reported in its own table beside the main one
    ablation = subprocess.run([*cmd, "--rows", "mt2kd-at-loss-x1"], capture_output=True, text=True, cwd=ROOT,
                              timeout=600)
    assert ablation.returncode == 0, ablation.stderr[-3000:]
    table = (reports / "paper_table.md").read_text()
    assert "## Stage-2 recipe ablations" in table and "| MT2KD, stage 2 with encoder lr x0.1, AT loss x1 |" in table
    assert stamps == {p: p.stat().st_mtime for p in stamps}  # the other rows stay as they were


def test_paper_table_budget_gives_every_single_task_student_the_whole_mt2kd_budget(tmp_path, capsys):
    from types import SimpleNamespace

    from train.paper_table import BY_NAME, ROWS, main, markdown, train_command

    def steps(row, budget, extra=()):
        args = SimpleNamespace(exp=tmp_path, corpus=tmp_path, threads=2, jobs=1, targets=tmp_path, set=list(extra),
                               budget=budget, stage1_config=TINY, stage2_config=TINY)
        return [int(a.split("=")[1]) for a in train_command(row, args) if a.startswith("steps=")][-1]
    by = {r.name: steps(r, (300, 500)) for r in ROWS}
    assert by["mt2kd-stage1"] + by["mt2kd"] == 800 == by["mt2kd-stage1"] + by["mt2kd-stage1-heads"]
    assert by["asr-only"] == by["at-only"] == by["sv-only"] == by["multitask-scratch"] == 800
    assert steps(BY_NAME["asr-only"], (300, 500), ["steps=4"]) == 4  # --set still wins (smoke runs)
    assert steps(BY_NAME["asr-only"], None) == 600  # without a budget, the rows' own sizes
    assert "Fair budget (`--budget 300,500`)" in markdown({"corpus": "c", "budget": [300, 500], "rows": {},
                                                           "teachers": {}, "goals": {}, "command": "x", "date": "d"})
    with pytest.raises(SystemExit):
        main(["--budget", "300"])
    assert "STAGE1_STEPS,STAGE2_STEPS" in capsys.readouterr().err


def test_a_second_trainer_on_the_same_run_directory_is_refused(ci_corpus, tmp_path):
    import fcntl

    out = tmp_path / "run"
    out.mkdir()
    with open(out / "train.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = stage2(ci_corpus, out, "steps=2")
    assert done.returncode == 2 and "another training process" in done.stderr


def test_valid_loss_rescores_a_checkpoint_exactly_as_its_run_logged_it(ci_corpus, trained, tmp_path, capsys):
    from train.valid_loss import main, valid_losses

    logged = [json.loads(line) for line in (trained / "log.jsonl").read_text().splitlines()]
    last = [r for r in logged if "valid/asr" in r][-1]
    assert last["step"] == 40  # latest.pt holds the weights this validation scored
    scores = valid_losses(trained / "latest.pt", TINY, [f"corpus={ci_corpus}"])
    assert scores["asr"] == pytest.approx(last["valid/asr"], rel=1e-4)
    assert scores["at"] == pytest.approx(last["valid/at"], rel=1e-4)
    assert main([str(tmp_path / "missing.pt"), "--config", TINY, "--corpus", str(ci_corpus)]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
