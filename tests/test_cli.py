"""The `mt2kd-edge` command as a user runs it: the installed entry point, in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mt2kd_edge.synthetic import speech_like

CLI = shutil.which("mt2kd-edge", path=str(Path(sys.executable).parent))


def run(*args: str) -> subprocess.CompletedProcess:
    assert CLI, "the mt2kd-edge entry point is not installed in this environment: run `make setup`"
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300)


def test_check_streams_and_passes_on_synthetic_audio():
    out = run("check", "--seconds", "2")
    assert out.returncode == 0, out.stderr
    assert "PASS: streaming equals the full forward" in out.stdout
    assert "UNTRAINED" in out.stdout  # it says honestly what it ran
    assert "7 chunks of 320 ms" in out.stdout  # 2 s -> 6.25 chunks -> 7 with the padded tail


def test_check_on_a_wav_file_with_another_chunk(tmp_path):
    wav = tmp_path / "clip.wav"
    sf.write(wav, speech_like(1.5), 16000, subtype="PCM_16")
    out = run("check", "--audio", str(wav), "--chunk-ms", "160")
    assert out.returncode == 0, out.stderr
    assert "10 chunks of 160 ms" in out.stdout


def test_bad_inputs_give_one_line_errors(tmp_path):
    wav8k = tmp_path / "8k.wav"
    sf.write(wav8k, np.zeros(8000, np.float32), 8000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF but not really")
    bad_ckpt = tmp_path / "model.pt"
    bad_ckpt.write_bytes(b"\x00" * 64)
    cases = [
        (("check", "--audio", str(tmp_path / "missing.wav")), "no such audio file"),
        (("check", "--audio", str(wav8k)), "8000 Hz audio; this model needs 16000 Hz"),
        (("check", "--audio", str(broken)), "not a readable audio file"),
        (("spec", "--checkpoint", str(bad_ckpt)), "model.pt: not a readable checkpoint"),
        (("check", "--chunk-ms", "300"), "multiple of 40"),
    ]
    for args, message in cases:
        out = run(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert message in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_help_teaches():
    out = run("--help")
    assert out.returncode == 0
    for word in ("check", "spec", "examples:"):
        assert word in out.stdout


@pytest.mark.parametrize("command", ["spec"])
def test_spec_prints_every_state(command):
    out = run(command)
    assert out.returncode == 0, out.stderr
    assert "state speaker.stats" in out.stdout and "state layer5.conv" in out.stdout
