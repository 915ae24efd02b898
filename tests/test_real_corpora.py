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


def fake_voxceleb(root: Path) -> Path:
    vox = root / "voxceleb1"
    rows = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
    for i, spk in enumerate(("id10001", "id10002", "id10270")):
        rows.append(f"{spk}\tPerson_{i}\tm\tUK\t{'test' if spk == 'id10270' else 'dev'}")
        for n in range(2):
            wav = vox / "wav" / spk / "vid" / f"0000{n}.wav"
            wav.parent.mkdir(parents=True, exist_ok=True)
            sf.write(wav, speech_like(1.0, seed=i * 7 + n), 16000)
    (vox / "vox1_meta.csv").write_text("\n".join(rows) + "\n")
    (vox / "veri_test2.txt").write_text("1 id10270/vid/00000.wav id10270/vid/00001.wav\n")
    return vox


def fake_audioset(root: Path) -> Path:
    aset = root / "audioset"
    (aset / "audio").mkdir(parents=True)
    (aset / "class_labels_indices.csv").write_text(
        'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/0bt9lr,"Dog"\n2,/m/03m9d0z,"Wind"\n')
    train = ["# header", "# YTID, start_seconds, end_seconds, positive_labels"]
    for i, ytid in enumerate(("aaaaaaaaaaa", "bbbbbbbbbbb", "ccccccccccc")):
        sf.write(aset / "audio" / f"{ytid}.wav", speech_like(1.0, seed=i), 16000)
        train.append(f'{ytid}, 30.000, 40.000, "/m/09x0r,/m/0bt9lr"' if i == 0 else f'{ytid}, 0.000, 10.000, "/m/03m9d0z"')
    train.append('zzzzzzzzzzz, 0.000, 10.000, "/m/03m9d0z"')  # never downloaded: skipped
    (aset / "balanced_train_segments.csv").write_text("\n".join(train) + "\n")
    return aset


def test_voxceleb_and_audioset_land_in_the_project_layout(tmp_path):
    out = tmp_path / "out"
    for name, corpus in (("voxceleb", fake_voxceleb(tmp_path)), ("audioset", fake_audioset(tmp_path))):
        done = subprocess.run([sys.executable, "-m", "train.data.real", name, "--corpus-dir", str(corpus),
                               "--out", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    train = load_manifest(out / "manifests" / "speech_cuts_train.jsonl.gz")
    test = load_manifest(out / "manifests" / "speech_cuts_test.jsonl.gz")
    assert {c.supervisions[0].speaker for c in train} == {"id10001", "id10002"}
    assert {c.supervisions[0].speaker for c in test} == {"id10270"}
    assert (out / "sv_trials.txt").read_text().split() == ["1", "id10270-vid-00000", "id10270-vid-00001"]
    events = load_manifest(out / "manifests" / "events_cuts_train.jsonl.gz")
    assert len(events) == 3
    by_id = {c.id: c for c in events}
    assert sorted(by_id["audioset-aaaaaaaaaaa"].supervisions[0].custom["labels"]) == ["Dog", "Speech"]
    assert (out / "labels.csv").read_text().splitlines()[1] == '0,/m/09x0r,"Speech"'


def test_stage2_trains_on_a_real_corpus_layout_with_only_some_tasks(tmp_path):
    corpus = tmp_path / "ls"
    done = subprocess.run([sys.executable, "-m", "train.data.real", "librispeech", "--corpus-dir",
                           str(fake_librispeech(tmp_path)), "--out", str(corpus)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "train.stage2", "--config", str(ROOT / "train/configs/tiny.yaml"),
                           "--set", f"corpus={corpus}", "--set", f"out={out}", "--set", "steps=4",
                           "--set", "task_ratio={asr: 1.0, sv: 1.0}", "--set", "bpe_vocab_size=20",
                           "--set", "batch_seconds=3"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "latest.pt").is_file()
