"""The transcript check: Whisper base reads a rendered utterance back, and what it cannot read is dropped.

A student cannot learn speech that a good recogniser cannot read, so every synthesised utterance that
the plan marks (``item["check"]``) is transcribed from its clean synthesis (before room, noise and
codec: those are meant to be hard) and scored against the text it was asked to speak:
- an utterance whose WER is above ``MAX_UTTERANCE_WER`` is dropped (its sidecar says why, no audio);
- every speaker first reads ``audition`` utterances (all checked); a speaker whose mean audition WER is
  above ``MAX_SPEAKER_WER`` is dropped with all its utterances: a voice setting Whisper cannot read.
Whisper base (CTranslate2, int8, greedy, one thread per worker) costs about 0.17 s per second of speech
on one core here, so the plan checks auditions, all held-out utterances and a sample of the rest.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

MAX_UTTERANCE_WER = 0.4
MAX_SPEAKER_WER = 0.3


@lru_cache(maxsize=1)
def _whisper():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory never needs the hub
    from faster_whisper import WhisperModel

    from train.teachers.whisper import base_model_dir

    return WhisperModel(str(base_model_dir()), device="cpu", compute_type="int8", cpu_threads=1, num_workers=1,
                        local_files_only=True)


def transcribe(audio_16k: np.ndarray) -> str:
    """Whisper base's English transcript of a 16 kHz clip: greedy, no timestamps, no prompt."""
    segments, _ = _whisper().transcribe(np.asarray(audio_16k, np.float32), language="en", beam_size=1,
                                        temperature=0.0, without_timestamps=True,
                                        condition_on_previous_text=False, vad_filter=False)
    return " ".join(s.text.strip() for s in segments)


def check(audio_16k: np.ndarray, reference: str) -> dict:
    """{"hyp": normalised transcript, "wer": float} for one utterance."""
    from train.evaluation.metrics import normalize_text, word_error_rate

    hyp = normalize_text(transcribe(audio_16k))
    return {"hyp": hyp, "wer": round(word_error_rate([reference], [hyp]), 4)}
