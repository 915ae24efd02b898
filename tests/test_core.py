"""The C++ core, through its bindings and directly through CMake + ctest."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from mt2kd_edge import _core

ROOT = Path(__file__).resolve().parents[1]


def make(chunk=4) -> _core.Chunker:
    return _core.Chunker(_core.ChunkerConfig(sample_rate=16000, chunk_samples=chunk))


def test_pieces_of_any_size_become_whole_chunks():
    c = make(chunk=5)
    audio = np.linspace(-1, 1, 23, dtype=np.float32)
    for piece in np.split(audio, [1, 2, 9, 9, 20]):
        c.accept_waveform(16000, piece)
    chunks = []
    while c.is_ready():
        chunks.append(c.pop_chunk())
    c.input_finished()
    while c.is_ready():
        chunks.append(c.pop_chunk())
    out = np.concatenate(chunks)
    assert len(out) == 25 and np.array_equal(out[:23], audio) and not out[23:].any()
    assert c.num_samples_accepted == 23 and c.num_chunks_popped == 5


def test_int16_is_scaled_to_unit_range():
    c = make(chunk=3)
    c.accept_waveform(16000, np.array([-32768, 0, 16384], dtype=np.int16))
    assert c.pop_chunk().tolist() == [-1.0, 0.0, 0.5]


@pytest.mark.parametrize("samples,error,match", [
    (np.array([0.1, np.nan], np.float32), ValueError, "NaN"),
    (np.array([0.1, np.inf], np.float32), ValueError, "NaN or Inf"),
    (np.array([3000.0], np.float32), ValueError, "outside"),
    (np.zeros(4, np.float64), TypeError, "float32"),
    (np.zeros(4, np.int32), TypeError, "int16"),
    (np.zeros((2, 4), np.float32), ValueError, "1-D"),
])
def test_bad_audio_raises_and_loses_nothing(samples, error, match):
    c = make()
    c.accept_waveform(16000, np.array([0.25, 0.5], np.float32))
    with pytest.raises(error, match=match):
        c.accept_waveform(16000, samples)
    assert c.num_buffered_samples == 2 and c.num_samples_accepted == 2
    c.accept_waveform(16000, np.array([0.75, 1.0], np.float32))  # the stream is still usable
    assert c.pop_chunk().tolist() == [0.25, 0.5, 0.75, 1.0]


def test_wrong_rate_empty_audio_and_audio_after_finish():
    c = make()
    with pytest.raises(ValueError, match="8000 Hz does not match"):
        c.accept_waveform(8000, np.zeros(4, np.float32))
    c.accept_waveform(16000, np.zeros(0, np.float32))  # empty is fine and does nothing
    assert not c.is_ready()
    with pytest.raises(RuntimeError, match="no whole chunk"):
        c.pop_chunk()
    c.input_finished()
    assert not c.is_ready()  # nothing buffered: nothing to pad
    with pytest.raises(ValueError, match="after input_finished"):
        c.accept_waveform(16000, np.zeros(4, np.float32))
    c.reset()
    c.accept_waveform(16000, np.zeros(4, np.float32))
    assert c.is_ready()


def test_invalid_config():
    with pytest.raises(ValueError, match="chunk_samples must be positive"):
        _core.ChunkerConfig(chunk_samples=0)


def test_chunkers_in_threads_are_independent():
    results = {}

    def work(i):
        c = make(chunk=1000)
        x = np.full(100_000, i / 10, np.float32)
        for piece in np.array_split(x, 37):
            c.accept_waveform(16000, piece)
        total = 0.0
        while c.is_ready():
            total += float(c.pop_chunk().sum())
        results[i] = total

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == pytest.approx({i: 100_000 * i / 10 for i in range(4)}, rel=1e-5)


@pytest.mark.slow
def test_cpp_unit_tests_pass_with_ctest(cpp_build):
    ctest = shutil.which("ctest", path=str(Path(sys.executable).parent))
    out = subprocess.run([ctest, "--test-dir", str(cpp_build), "--output-on-failure"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "100% tests passed" in out.stdout and "test_runtime_units" in out.stdout
