"""The streaming API: one encoder pass per chunk feeds ASR, rolling tagging and speaker ID.

    engine = Engine.from_dir("models/default")            # ExecuTorch; backend="onnx" for ORT
    stream = engine.create_stream()
    stream.accept_waveform(16000, samples)                # float32 in [-1, 1] or int16, any rate
    engine.decode(stream)                                 # or engine.decode([s1, s2, ...]) batched
    print(stream.transcript().text, stream.top_tags(), engine.identify(stream.speaker_embedding()))

or, for a whole source of audio chunks, ``for event in engine.events(chunks): ...``.
The Engine is shared and read-only (use it from many threads); a Stream belongs to one thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from . import _core
from .backends import create_backend
from .model_files import ModelFileError, read_decoding_defaults
from .results import SpeakerMatch, StreamEvent, Tag, Token, Transcript, Word
from .speakers import SpeakerStore
from .spec import SAMPLE_RATE
from .stream_events import from_core

DEFAULT_SPEAKER_THRESHOLD = _core.DEFAULT_SPEAKER_THRESHOLD  # cosine (0.5); tune it on your own trials (see the README's DET curve)
# Enrollment needs this much sound: a voiceprint from 1 sample or from silence is the voiceprint
# of nothing, and every quiet segment would then be "identified" as that speaker.
MIN_ENROLL_SOUND_S = 1.0
SOUND_FLOOR_DBFS = -50.0  # a 40 ms frame quieter than this (RMS, full scale = 0 dB) is silence

# The options Engine.from_dir(**overrides) accepts are the fields of the bound C++ EngineConfig, read
# from the bindings so that a field added in C++ is an option at once. A few take another name here:
# the tagger's thresholds would read as endpoint ones, and the endpoint switch is ``endpoint=False``.
_RENAMED = {("tagging", "on_threshold"): "tag_on_threshold", ("tagging", "off_threshold"): "tag_off_threshold",
            ("endpoint", "enabled"): "endpoint"}


def _bound_fields(cls: type) -> list[str]:
    """The fields pybind11 binds on a config struct (its def_readwrite properties), in binding order."""
    return [name for name, attr in vars(cls).items() if isinstance(attr, property)]


def _engine_options() -> dict[str, tuple[str | None, str]]:
    """keyword -> (config section or None for a top-level field, field)."""
    config, options = _core.EngineConfig(), {}
    for name in _bound_fields(_core.EngineConfig):
        fields = _bound_fields(type(getattr(config, name)))  # a section (DecodingConfig, ...) or a plain value
        entries = [(_RENAMED.get((name, f), f), (name, f)) for f in fields] or [(name, (None, name))]
        for key, where in entries:
            if key in options:
                raise RuntimeError(f"engine option {key!r} names two config fields: {options[key]} and {where}")
            options[key] = where
    return options


ENGINE_OPTIONS = _engine_options()


MODEL_LM = "model"  # Engine.from_dir(lm=MODEL_LM): the LM that the model directory's model.json names, if any
DEFAULT_LM_BEAM = 4  # the beam an LM gets when neither the caller nor model.json sets one


def engine_config(base: "_core.EngineConfig | None" = None, **overrides: Any) -> "_core.EngineConfig":
    """A runtime config from keyword options (ENGINE_OPTIONS; see Engine.from_dir) over ``base`` (default:
    the core's defaults); ``lm`` is an LM file path or None."""
    config = _core.EngineConfig()
    for name in _bound_fields(_core.EngineConfig) if base is not None else ():
        setattr(config, name, getattr(base, name))  # sections come back as copies
    for key, value in overrides.items():
        if key not in ENGINE_OPTIONS:
            raise TypeError(f"unknown engine option {key!r}; options are {sorted(ENGINE_OPTIONS)}")
        section, field = ENGINE_OPTIONS[key]
        part = config if section is None else getattr(config, section)
        if key == "lm":
            value = "" if value is None else os.fspath(value)
        elif isinstance(getattr(part, field), bool):
            value = bool(value)
        setattr(part, field, value)
        if section is not None:
            setattr(config, section, part)  # getattr returned a copy of the section
    return config


class Stream:
    """One audio stream: its buffers, model state and results."""

    def __init__(self, engine: "Engine", core: "_core.Stream") -> None:
        self._engine, self._core = engine, core

    def accept_waveform(self, sample_rate: int, samples: np.ndarray) -> None:
        """Append 1-D float32 samples in [-1, 1] or int16 PCM at any rate from MIN_SAMPLE_RATE to
        MAX_SAMPLE_RATE (4-192 kHz). Raises ValueError/TypeError on bad input (wrong dtype or shape,
        NaN/Inf, a rate out of range, audio after input_finished), naming the sample by its position
        in the whole stream, and keeps the stream usable."""
        if not isinstance(samples, np.ndarray):
            raise TypeError(f"samples must be a numpy array, got {type(samples).__name__}")
        if not _core.MIN_SAMPLE_RATE <= sample_rate <= _core.MAX_SAMPLE_RATE:  # also before C's int could overflow
            raise ValueError(f"sample rate {sample_rate} Hz is outside the supported "
                             f"{_core.MIN_SAMPLE_RATE}-{_core.MAX_SAMPLE_RATE} Hz")
        self._core.accept_waveform(int(sample_rate), samples)

    def input_finished(self) -> None:
        self._core.input_finished()

    def is_ready(self) -> bool:
        return self._core.is_ready()

    @property
    def is_finished(self) -> bool:
        return self._core.is_finished

    def is_endpoint(self) -> bool:
        return self._core.is_endpoint()

    def reset(self) -> None:
        """Start the next utterance after an endpoint (keeps the acoustic context). A finished
        input stays finished: for more audio after input_finished(), create a new stream."""
        self._core.reset()

    def transcript(self) -> Transcript:
        r = self._core.get_result()
        tokens = tuple(Token(t, i, s) for t, i, s in zip(r.tokens, r.token_ids, r.token_times_s))
        words = tuple(Word(w.word, w.start_s, w.end_s) for w in r.words)
        return Transcript(r.text, tokens, r.start_s, r.end_s, r.segment, r.is_final, words)

    def top_tags(self) -> list[Tag]:
        labels = self._engine.labels
        return [Tag(labels[t.index], t.index, float(t.score)) for t in self._core.top_tags()]

    def speaker_embedding(self) -> np.ndarray:
        """Embedding of the current segment so far (empty before the first chunk)."""
        return self._core.speaker_embedding()

    @property
    def processed_seconds(self) -> float:
        return self._core.processed_seconds

    @property
    def speech_seconds(self) -> float:
        """Seconds of the current segment in which the tagger heard speech."""
        return self._core.speech_seconds


MIN_SPEAKER_SEGMENT_S = _core.MIN_SPEAKER_SEGMENT_MS / 1000  # a segment without words must be this long to get a speaker event (decided in the core)

HotwordList = Iterable["str | tuple[str, float] | _core.Hotword"]


def read_hotwords(path: str | os.PathLike) -> list["_core.Hotword"]:
    """A hotwords file: one word or phrase per line, optionally followed by ``:BOOST`` (log-score per
    matched letter, more than 0 and at most MAX_HOTWORD_BOOST); blank lines and ``#`` comments are
    skipped. A malformed line raises ValueError naming the file and the line."""
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        raise ValueError(f"{path}: hotwords file not found") from None
    except OSError as e:
        raise ValueError(f"{path}: cannot read the hotwords file ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: the hotwords file is not UTF-8 text (byte {e.start})") from None
    return _core.parse_hotwords(text, str(path))


def _hotwords(items: HotwordList) -> list["_core.Hotword"]:
    if isinstance(items, (str, bytes, os.PathLike)):
        raise TypeError("hotwords must be a list of phrases (or (phrase, boost) pairs); read a file with "
                        "mt2kd_edge.engine.read_hotwords(path)")
    out = []
    for item in items:
        if isinstance(item, _core.Hotword):
            out.append(item)
        elif isinstance(item, str):
            out.append(_core.Hotword(item))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            boost = float(item[1])
            if not 0 < boost <= _core.MAX_HOTWORD_BOOST:
                raise ValueError(f"hotword {item[0]!r}: boost must be more than 0 and at most "
                                 f"{_core.MAX_HOTWORD_BOOST:g}, got {item[1]!r}")
            out.append(_core.Hotword(item[0], boost))
        else:
            raise TypeError(f"a hotword must be a phrase or a (phrase, boost) pair, got {item!r}")
    return out


class Engine:
    """A loaded model plus runtime options. Build it with :meth:`from_dir`."""

    def __init__(self, backend: "_core.Backend", config: "_core.EngineConfig", speakers: SpeakerStore | None = None,
                 speaker_threshold: float = DEFAULT_SPEAKER_THRESHOLD, hotwords: HotwordList = ()) -> None:
        config.validate(backend.info.frame_shift_ms)  # an option out of range: ValueError
        try:
            self._core = _core.Engine(backend, config)  # loads the LM, runs one test step of the model
        except ValueError as e:
            raise ModelFileError(str(e)) from None
        self._backend = backend
        d = config.decoding  # the decoding this engine runs (float32 in the core: rounded for people)
        self.decoding = {"beam_size": d.beam_size, "lm": d.lm or None, "lm_weight": round(d.lm_weight, 6),
                         "word_bonus": round(d.word_bonus, 6), "oov_penalty": round(d.oov_penalty, 6)}
        info = self._core.info
        self.labels = [label.name for label in info.labels]
        self.tokens = list(info.tokens)
        self.sample_rate = info.sample_rate
        self.chunk_samples = info.chunk_samples
        self.embedding_dim = next(o.shape[0] for o in info.outputs if o.name == "speaker_embedding")
        self.speakers = speakers if speakers is not None else SpeakerStore(self.embedding_dim)
        self.speaker_threshold = speaker_threshold
        self._hotword_list = _hotwords(hotwords)
        self._hotwords = self._core.make_hotwords(self._hotword_list)  # None: no biasing

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike, backend: str = "executorch", precision: str | None = None,
                 threads: int = 1, speakers: str | os.PathLike | SpeakerStore | None = None,
                 speaker_threshold: float = DEFAULT_SPEAKER_THRESHOLD, verify: bool = True,
                 lm: str | os.PathLike | None = MODEL_LM, hotwords: HotwordList = (),
                 **overrides: Any) -> "Engine":
        """Load ``model_dir`` (made by ``python -m export``). ``backend``: "executorch" (native C++)
        or "onnx" (onnxruntime); ``precision``: "int8", "fp32" or None (int8 if present).
        ``speakers``: a speaker-store file (read if it exists) or a SpeakerStore.
        ``verify``: check the model file (and its LM) against the sha256 in the directory's manifest.json.
        ``lm``: a word n-gram LM file (ARPA or the binary of ``python -m train.lm``), None for none, or
        MODEL_LM (the default): the one model.json names, with its beam size and weights (dropped
        when beam_size=1, greedy, is asked for).
        ``hotwords``: phrases (or (phrase, boost) pairs) every stream is biased towards; see
        create_stream. ``overrides``: runtime options, the fields of the C++ EngineConfig (ENGINE_OPTIONS),
        such as beam_size (1-MAX_BEAM_SIZE), lm_weight, word_bonus, hotword_boost, max_revised_words,
        window_ms, hop_ms, top_k, tag_on_threshold, trailing_silence_ms, min_speech_ms, max_utterance_ms,
        endpoint=False, resample=False.
        A model or LM file that is missing, corrupt, or not what its metadata says raises ModelFileError."""
        overrides = {**_decoding_options(Path(model_dir), lm, verify, overrides), **overrides}
        engine = cls(create_backend(model_dir, backend, precision, threads, verify), engine_config(**overrides),
                     speaker_threshold=speaker_threshold, hotwords=hotwords)
        if isinstance(speakers, SpeakerStore):
            engine.speakers = speakers
        elif speakers is not None:
            engine.speakers = SpeakerStore(engine.embedding_dim, speakers)
        return engine

    def with_options(self, **overrides: Any) -> "Engine":
        """Another engine on this one's loaded model (the backend is shared: nothing is loaded again) whose
        runtime options are this one's with ``overrides`` (ENGINE_OPTIONS) over them; the same speakers and
        hotwords. Both engines can be used at once."""
        return Engine(self._backend, engine_config(self._core.config, **overrides), self.speakers,
                      self.speaker_threshold, self._hotword_list)

    @property
    def backend_name(self) -> str:
        return self._core.backend_name

    def timing(self) -> dict[str, float]:
        """Decoding time so far: the model's steps against the core's own work (decoder_s: the CTC
        decoder's part of it: beam search, LM, hotwords), summed over ``chunks`` chunks."""
        t = self._core.timing()
        return {"model_s": t.model_s, "core_s": t.core_s, "decoder_s": t.decoder_s, "chunks": t.chunks}

    def create_stream(self, hotwords: HotwordList | None = None) -> Stream:
        """A new stream. ``hotwords``: words or phrases to bias it towards, each a string or a
        (phrase, boost) pair (boost: log-score per matched letter; default the engine's
        hotword_boost); None: the engine's own list (Engine.from_dir(hotwords=...)); []: none.
        Hotwords need beam search; a phrase the model's tokens cannot spell raises ValueError."""
        graph = self._hotwords if hotwords is None else self._core.make_hotwords(_hotwords(hotwords))
        return Stream(self, self._core.create_stream(graph))

    def decode(self, streams: Stream | Iterable[Stream]) -> None:
        """Decode one chunk of each ready stream (several streams share one batched call where the
        backend allows). Releases the GIL."""
        if isinstance(streams, Stream):
            self._core.decode_stream(streams._core)
        else:
            self._core.decode_streams([s._core for s in streams])

    def decode_all(self, stream: Stream) -> None:
        while stream.is_ready():
            self._core.decode_stream(stream._core)

    def embed(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """The speaker embedding of a whole recording."""
        stream = self.create_stream()
        stream.accept_waveform(sample_rate, samples)
        stream.input_finished()
        self.decode_all(stream)
        return stream.speaker_embedding()

    def enrollment_embedding(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE,
                             min_speech_s: float = 0.0) -> np.ndarray:
        """The embedding of a recording to enroll, refused (ValueError, saying why) unless it holds
        MIN_ENROLL_SOUND_S of sound above SOUND_FLOOR_DBFS and, when ``min_speech_s`` > 0, that many
        seconds in which the tagger heard speech (P(Speech) >= the endpoint's speech threshold)."""
        samples = np.asarray(samples)
        level = samples.astype(np.float32) / (32768.0 if samples.dtype == np.int16 else 1.0)
        frame = max(1, int(sample_rate) // 25)  # 40 ms
        frames = level[:len(level) // frame * frame].reshape(-1, frame)
        rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)) if len(frames) else np.zeros(0)
        sound_s = float(np.count_nonzero(rms >= 10 ** (SOUND_FLOOR_DBFS / 20))) * frame / sample_rate
        if sound_s < MIN_ENROLL_SOUND_S:
            raise ValueError(f"only {sound_s:.2f} s of sound (above {SOUND_FLOOR_DBFS:g} dBFS) in "
                             f"{len(samples) / sample_rate:.2f} s of audio; enrolling needs at least "
                             f"{MIN_ENROLL_SOUND_S:g} s of the speaker talking")
        stream = self.create_stream()
        stream.accept_waveform(sample_rate, samples)
        stream.input_finished()
        self.decode_all(stream)
        if min_speech_s > 0 and stream.speech_seconds < min_speech_s:
            raise ValueError(f"the tagger heard only {stream.speech_seconds:.2f} s of speech in "
                             f"{len(samples) / sample_rate:.2f} s of audio; enrolling needs at least {min_speech_s:g} s")
        return stream.speaker_embedding()

    def identify(self, embedding: np.ndarray) -> SpeakerMatch:
        if len(embedding) == 0 or len(self.speakers) == 0:
            return SpeakerMatch(None, -1.0)
        return self.speakers.identify(embedding, self.speaker_threshold)

    def events(self, chunks: Iterable[np.ndarray], sample_rate: int = SAMPLE_RATE,
               stream: Stream | None = None) -> Iterator[StreamEvent]:
        """Stream audio chunks (any sizes) and yield typed events as they happen: partial and
        final transcripts, tag events (start to end), and who spoke each utterance. Pass your own
        ``stream`` to look at it between events (top tags, embedding).

        Bad audio (NaN, a wrong rate, ...) ends the stream: what came before it is decoded and its
        events (the final transcript included) are yielded, then the error is raised."""
        stream = stream or self.create_stream()

        def drain() -> Iterator[StreamEvent]:
            while stream.is_ready():
                self.decode(stream)
                yield from self.take_events(stream)

        for chunk in chunks:
            try:
                stream.accept_waveform(sample_rate, chunk)
            except (ValueError, TypeError):
                # The bad piece was refused whole; the audio before it still gets its final events.
                stream.input_finished()
                yield from drain()
                raise
            yield from drain()
        stream.input_finished()
        yield from drain()

    def take_events(self, stream: Stream) -> list[StreamEvent]:
        """The events of the chunk just decoded in ``stream``, speakers named from this engine's
        store. Call it after every decode of the stream (it raises RuntimeError when more than one
        chunk was decoded since the last call); at an endpoint it resets the stream itself."""
        core = stream._core.take_events(self.speakers.core, self.speaker_threshold)
        events = (from_core(ev, self.labels) for ev in core)
        return [ev for ev in events if ev is not None]


def _decoding_options(model_dir: Path, lm: Any, verify: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    """beam_size, lm, lm_weight and word_bonus from model.json's decoding section and ``lm``; the
    caller's overrides are applied over them."""
    defaults = read_decoding_defaults(model_dir) if model_dir.is_dir() else {}
    out = {k: defaults[k] for k in ("lm_weight", "word_bonus", "oov_penalty") if k in defaults}
    if lm is False:
        lm = None
    if lm == MODEL_LM:
        lm = defaults.get("lm")
        beam = overrides.get("beam_size", defaults.get("beam_size", DEFAULT_LM_BEAM if lm else 1))
        if lm and beam < 2:
            lm = None  # greedy was asked for: the model's LM cannot apply
        if lm and verify:
            from .backends import verify_model_file

            verify_model_file(Path(lm))
    if "beam_size" in defaults:
        out["beam_size"] = defaults["beam_size"]
    elif lm is not None:
        out["beam_size"] = DEFAULT_LM_BEAM
    out["lm"] = lm
    return out
