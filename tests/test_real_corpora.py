"""Real corpora through lhotse recipes, on a tiny fake LibriSpeech layout made in the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import soundfile as sf
from lhotse import load_manifest

from mt2kd_edge.synthetic import speech_like

ROOT = Path(__file__).resolve().parents[1]


def fake_librispeech(root: Path) -> Path:
    ls = root / "LibriSpeech"
    for part, speakers in (("train-clean-100", (19, 26)), ("dev-clean", (84,)), ("test-clean", (121,))):
        for spk in speakers:
            chapter = ls / part / str(spk) / "198"
            chapter.mkdir(parents=True)
            lines = []
            for i in range(2):
                uid = f"{spk}-198-{i:04d}"
                sf.write(chapter / f"{uid}.flac", speech_like(1.0 + 0.2 * i, seed=spk + i), 16000)
                lines.append(f"{uid} HELLO WORLD NUMBER {i}")
            (chapter / f"{spk}-198.trans.txt").write_text("\n".join(lines) + "\n")
    return ls


def test_librispeech_lands_in_the_project_layout(tmp_path):
    corpus = fake_librispeech(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "train.data.real", "librispeech", "--corpus-dir", str(corpus),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    train = load_manifest(out / "manifests" / "speech_cuts_train.jsonl.gz")
    assert len(train) == 4 and {c.supervisions[0].speaker for c in train} == {"19", "26"}
    assert all(c.sampling_rate == 16000 and c.supervisions[0].text.startswith("HELLO WORLD") for c in train)
    assert len(load_manifest(out / "manifests" / "speech_cuts_dev.jsonl.gz")) == 2
    pool = load_manifest(out / "manifests" / "pool_cuts_train.jsonl.gz")
    assert len(pool) == 4 and all(not c.supervisions for c in pool)
    assert train[0].load_audio().shape[1] == 16000


def test_missing_corpus_is_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "train.data.real", "librispeech", "--corpus-dir",
                           str(tmp_path / "nope"), "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "LibriSpeech directory not found" in done.stderr
