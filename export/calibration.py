"""Audio for int8 calibration: real recordings from a folder or lhotse manifest, else synthetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mt2kd_edge.audio_io import read_mono_16k
from mt2kd_edge.synthetic import speech_like

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def calibration_files(source: Path, max_files: int) -> list[Path]:
    """Audio files under a folder, or the recordings named by a lhotse cuts/recordings manifest."""
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    elif source.name.endswith((".jsonl.gz", ".jsonl")):
        from lhotse import load_manifest_lazy

        files = []
        for item in load_manifest_lazy(source):
            recording = getattr(item, "recording", item)
            files.extend(Path(s.source) for s in recording.sources if s.type == "file")
    else:
        raise ValueError(f"{source}: calibration source must be a folder of audio or a lhotse manifest")
    if not files:
        raise ValueError(f"{source}: no audio files found for calibration")
    rng = np.random.default_rng(0)  # a fixed, spread-out sample of the corpus
    picked = rng.choice(len(files), size=min(max_files, len(files)), replace=False)
    return [files[i] for i in sorted(picked)]


def calibration_clips(source: Path | None, max_files: int = 32) -> tuple[list[np.ndarray], str]:
    """-> (the clips, each streamed with a fresh state, a description for the metadata)."""
    if source is None:
        clips = [speech_like(4.0, seed=i) for i in range(8)]
        return clips, "synthetic speech-like audio (8 x 4 s); pass --calibration for real audio"
    files = calibration_files(source, max_files)
    return [read_mono_16k(p) for p in files], f"{len(files)} files from {source}"
