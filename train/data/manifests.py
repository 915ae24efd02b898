"""Assemble lhotse manifests and the speaker-verification trials from the sidecars.

Where the labels live:
- speech: one supervision per recording with ``text`` (the normalised transcript) and ``speaker``;
  ``custom`` holds the voice (system, family, person, pitch, formant, rate, accent, blend), sentence id,
  tempo, channel effects applied and, where Whisper base checked it, ``teacher_wer``;
- events: one supervision per recording spanning it, with ``custom["labels"]`` (display names from
  labels.csv, several for mixtures), ``custom["events"]`` (each label's start and end in seconds),
  ``custom["sources"]`` (the files or generator seeds used) and ``custom["augment"]``.
Cuts carry the same supervisions; ``pool_train_cuts`` is every training recording with none (stage 1).
"""

from __future__ import annotations

import json
import os
from itertools import combinations
from pathlib import Path

import numpy as np

from mt2kd_edge.fileio import atomic_write

from .effects import SAMPLE_RATE
from .layout import manifest_path
from .plan import output_path


def load_sidecars(out_dir: Path, items: list[dict]) -> list[dict]:
    return [json.loads(output_path(out_dir, it, ".json").read_text()) for it in items]


def _recording(out_dir: Path, meta: dict):
    from lhotse import AudioSource, Recording

    path = output_path(out_dir, meta, ".flac").resolve()
    return Recording(id=meta["id"], sources=[AudioSource(type="file", channels=[0], source=str(path))],
                     sampling_rate=SAMPLE_RATE, num_samples=meta["num_samples"],
                     duration=meta["num_samples"] / SAMPLE_RATE)


def _supervision(meta: dict):
    from lhotse import SupervisionSegment

    duration = meta["num_samples"] / SAMPLE_RATE
    if meta["kind"] == "speech":
        spk = meta["speaker"]
        custom = {"system": spk["system"], "family": meta["family"], "voice": spk["voice"], "person": spk["person"],
                  "pitch": spk["pitch"], "formant": spk["formant"], "rate": spk["rate"], "accent": spk["accent"],
                  "blend": spk["blend"], "real_voice": spk["system"] != "espeak", "sentence_id": meta["sentence_id"],
                  "tempo": meta["tempo"], "augment": meta["augment"], "seed": meta["seed"]}
        if isinstance(meta.get("check"), dict):  # Whisper base's reading of the clean synthesis (transcript_check.py);
            # an utterance the plan did not check keeps the plan's False
            custom["teacher_wer"] = meta["check"]["wer"]
        return SupervisionSegment(id=meta["id"], recording_id=meta["id"], start=0.0, duration=duration, channel=0,
                                  text=meta["text"], speaker=spk["speaker_id"], language="English", custom=custom)
    custom = {"labels": meta["labels"], "events": meta["events"], "sources": meta["sources"],
              "augment": meta["augment"], "kind": meta["kind"], "seed": meta["seed"]}
    return SupervisionSegment(id=meta["id"], recording_id=meta["id"], start=0.0, duration=duration, channel=0,
                              custom=custom)


def _cuts(recordings, supervisions=None):
    """One cut per recording with the recording's id (lhotse's own helper appends a suffix), so trials
    and cut ids stay readable and stable across builds."""
    from lhotse import CutSet, MonoCut

    by_recording = {s.recording_id: [s] for s in supervisions} if supervisions is not None else {}
    return CutSet.from_cuts(MonoCut(id=r.id, start=0.0, duration=r.duration, channel=0, recording=r,
                                    supervisions=by_recording.get(r.id, [])) for r in recordings)


def save_manifest(manifest, path: Path) -> None:
    """Write a lhotse manifest atomically (a temporary name, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.jsonl.gz")
    manifest.to_file(tmp)
    os.replace(tmp, path)


def write_manifests(out_dir: Path, dataset: str, split: str, metas: list[dict]) -> dict[str, Path]:
    """``<dataset>_{recordings,supervisions,cuts}_<split>.jsonl.gz`` under ``out_dir/manifests``."""
    from lhotse import RecordingSet, SupervisionSet

    metas = sorted(metas, key=lambda m: m["id"])
    recordings = RecordingSet.from_recordings(_recording(out_dir, m) for m in metas)
    supervisions = SupervisionSet.from_segments(_supervision(m) for m in metas)
    cuts = _cuts(recordings, supervisions)
    paths = {}
    for name, manifest in (("recordings", recordings), ("supervisions", supervisions), ("cuts", cuts)):
        paths[name] = manifest_path(out_dir, dataset, split, name)
        save_manifest(manifest, paths[name])
    return paths


def write_pool(out_dir: Path, metas: list[dict]) -> Path:
    """The stage-1 unlabelled pool: every training recording of every source, no supervisions."""
    from lhotse import RecordingSet

    recordings = RecordingSet.from_recordings(_recording(out_dir, m) for m in sorted(metas, key=lambda m: m["id"]))
    path = manifest_path(out_dir, "pool", "train")
    save_manifest(_cuts(recordings), path)
    return path


def write_trials(path: Path, test_speech: list[dict], num_trials: int, seed: int) -> dict[str, int]:
    """VoxCeleb-style trials ``<1|0> <enroll cut id> <test cut id>`` among held-out speakers, half target.

    Non-target pairs include pitch variants of one recorded person: hard trials, as twins would be.
    """
    rng = np.random.default_rng(seed)
    ids = sorted(m["id"] for m in test_speech)
    speaker = {m["id"]: m["speaker"]["speaker_id"] for m in test_speech}
    pairs = list(combinations(ids, 2))
    target = [p for p in pairs if speaker[p[0]] == speaker[p[1]]]
    nontarget = [p for p in pairs if speaker[p[0]] != speaker[p[1]]]
    half = num_trials // 2
    chosen = [(1, target[i]) for i in sorted(rng.choice(len(target), min(half, len(target)), replace=False))]
    chosen += [(0, nontarget[i]) for i in sorted(rng.choice(len(nontarget), min(half, len(nontarget)), replace=False))]
    with atomic_write(path, "w") as f:
        f.writelines(f"{label} {a} {b}\n" for label, (a, b) in chosen)
    return {"target": sum(1 for lab, _ in chosen if lab), "nontarget": sum(1 for lab, _ in chosen if not lab)}
