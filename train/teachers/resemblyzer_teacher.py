"""Speaker teacher: resemblyzer's bundled d-vector encoder (3-layer LSTM, 256-d, L2-normalised).

resemblyzer's own preprocessing runs first: loudness normalisation to -30 dBFS and webrtcvad
removal of long silences. (webrtcvad imports ``pkg_resources``, so it needs ``setuptools<81``.)
A clip whose voiced part is under 0.5 s is embedded whole instead of trimmed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .base import SAMPLE_RATE, TargetKind, TargetSpec, as_mono_float32

SPEAKER_DIM = 256  # resemblyzer embedding width
MIN_VOICED_SAMPLES = SAMPLE_RATE // 2  # below this the VAD-trimmed clip is too short to trust


class ResemblyzerTeacher:
    def __init__(self, weights_path: str | Path | None = None) -> None:
        with warnings.catch_warnings():  # pkg_resources / scipy deprecation noise from the package
            warnings.simplefilter("ignore")
            from resemblyzer import VoiceEncoder, preprocess_wav
        self._preprocess = preprocess_wav
        # weights_path None = the pretrained.pt shipped inside the resemblyzer wheel (local file)
        self.encoder = VoiceEncoder("cpu", verbose=False, weights_fpath=weights_path)
        self.spec = TargetSpec("speaker", TargetKind.EMBEDDING, SPEAKER_DIM,
                               description="resemblyzer 0.1.4 bundled d-vector encoder (VAD-trimmed)")

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """audio (N,) -> (256,) unit-norm float32 embedding."""
        audio = as_mono_float32(audio)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wav = self._preprocess(audio, source_sr=SAMPLE_RATE)
        if len(wav) < MIN_VOICED_SAMPLES:
            wav = audio
        emb = np.asarray(self.encoder.embed_utterance(wav), dtype=np.float32)
        if not np.isfinite(emb).all():  # digital silence: no direction to point in
            emb = np.zeros(SPEAKER_DIM, np.float32)
        return emb
