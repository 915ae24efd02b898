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
