"""Reading audio files for the CLI: mono float32 at the model's rate, or a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._core import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from .spec import SAMPLE_RATE


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """-> (mono float32 samples in [-1, 1], sample rate) of any rate soundfile reads."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such audio file")
    try:
        audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises its own LibsndfileError for unreadable files
        raise ValueError(f"{path}: not a readable audio file ({e})") from None
    if audio.shape[0] == 0:
        raise ValueError(f"{path}: the file holds no audio")
    # A header's rate is not trusted: 1 Hz would "play" 80,000 s, 2^31 Hz exhaust the resampler.
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ValueError(f"{path}: the header says {rate} Hz; supported rates are {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz")
    return audio.mean(axis=1).astype(np.float32), int(rate)


def read_mono_16k(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """-> float32 samples in [-1, 1]. Refuses other rates (for code that does not resample)."""
    audio, rate = read_audio(path)
    if rate != sample_rate:
        raise ValueError(f"{path}: {rate} Hz audio; this model needs {sample_rate} Hz "
                         f"(e.g. `sox in.wav -r {sample_rate} out.wav`)")
    return audio
