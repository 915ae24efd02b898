"""The C++ example app (runtime/examples/transcribe.cc) prints the same events as `mt2kd-edge run`:
the same lines and the same JSON lines, for the bundled model on its demo clip. Both take their
events from Stream::TakeEvents; this holds their printing (mt2kd_edge/event_format.py and
runtime/examples/event_format.cc) to each other."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mt2kd_edge.engine import Engine
from mt2kd_edge.event_format import format_event, json_line

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "default"
CLIP, SPEAKERS = str(MODEL / "demo" / "clip.wav"), str(MODEL / "demo" / "speakers.json")
CLI = shutil.which("mt2kd-edge", path=str(Path(sys.executable).parent))


def decoding_options() -> list[str]:
    """The decoding `run` takes from model.json, as the example app's options."""
    d = json.loads((MODEL / "model.json").read_text())["decoding"]
    return ["--beam-size", str(d["beam_size"]), "--lm", str(MODEL / d["lm"]), "--lm-weight", repr(d["lm_weight"]),
            "--word-bonus", repr(d["word_bonus"]), "--oov-penalty", repr(d["oov_penalty"])]


def example(cpp_build: Path, *args: str) -> str:
    out = subprocess.run([str(cpp_build / "mt2kd_transcribe"), str(MODEL / "model.int8.pte"), CLIP, "--speakers",
                          SPEAKERS, *decoding_options(), *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def run(*args: str) -> str:
    assert CLI, "the mt2kd-edge entry point is not installed in this environment: run `make setup`"
    out = subprocess.run([CLI, "run", "--model", str(MODEL), "--speakers", SPEAKERS, *args, CLIP],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_the_example_app_prints_the_jsonl_events_of_run(cpp_build):
    want = run("--jsonl")
    assert example(cpp_build, "--jsonl") == want
    kinds = {json.loads(line)["type"] for line in want.splitlines()}
    assert kinds == {"partial", "final", "tag", "speaker"}  # every kind `run` prints, so each is compared


def test_the_example_app_prints_the_text_lines_of_run(cpp_build):
    want = run().splitlines()
    got = example(cpp_build).splitlines()
    assert got[:len(want)] == want and len(want) > 3
    assert got[len(want)].startswith("top tags:") and got[len(want) + 1].startswith("audio ")  # then its summary


def test_unknown_speakers_print_alike(cpp_build):
    """Nobody reaches a 0.9 threshold: the "unknown (best ...)" lines and null names, which the
    bundled speakers never give at the default threshold."""
    engine = Engine.from_dir(MODEL, speakers=SPEAKERS, speaker_threshold=0.9)
    import soundfile as sf

    audio, rate = sf.read(CLIP, dtype="float32")
    piece = rate // 10  # run's 100 ms pieces
    events = list(engine.events((audio[i:i + piece] for i in range(0, len(audio), piece)), rate))
    assert any(e.type == "speaker" and e.name is None for e in events)
    lines = [format_event(e) for e in events if e.type != "partial"]
    assert example(cpp_build, "--threshold", "0.9").splitlines()[1:len(lines) + 1] == lines
    assert example(cpp_build, "--threshold", "0.9", "--jsonl").splitlines() == [json_line(e, CLIP) for e in events]
