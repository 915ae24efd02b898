"""Type stub of ``mt2kd_edge._core``, the pybind11 bindings of the C++ core (runtime/bindings/*.cc).

The boundary between Python and C++, read in one place. Times are seconds from the stream start
(``_s``) or milliseconds (``_ms``). C++ std::invalid_argument arrives as ValueError, other
std::logic_error and std::runtime_error as RuntimeError. tests/test_core_stub.py checks that
every public name of the module is here and that nothing here is missing from it; mypy's stubtest
(`python -m mypy.stubtest mt2kd_edge._core`) agrees but for two pybind11 traits: every class's
metaclass is pybind11_type, and a class without a constructor here cannot be built from Python.
"""

from collections.abc import Callable, Sequence
from typing import ClassVar, overload

import numpy as np
import numpy.typing as npt

__version__: str

# ---- runtime/include/mt2kd/model_info.h, ctc_decoder.h, context_graph.h, event_maker.h ----
MIN_SAMPLE_RATE: int  # Hz, the lowest input rate accepted (4000)
MAX_SAMPLE_RATE: int  # Hz, the highest (192000)
MAX_BEAM_SIZE: int  # DecodingConfig.beam_size at most (64)
MAX_HOTWORDS: int  # phrases in one hotword list at most
MAX_HOTWORD_BOOST: float  # log-score per matched letter at most
MIN_SPEAKER_SEGMENT_MS: int  # a segment without words shorter than this gets no speaker event (500)
DEFAULT_SPEAKER_THRESHOLD: float  # cosine at which a speaker is named (0.5)

# Audio the core takes: 1-D float32 in [-1, 1] or int16 PCM (other dtypes raise TypeError).
_Samples = npt.NDArray[np.float32] | npt.NDArray[np.int16]
_FloatArray = npt.ArrayLike  # converted to C-contiguous float32 (forcecast)
_Embedding = npt.ArrayLike  # a 1-D float32 speaker embedding

# ---------------------------------------------------------------- chunker_binding.cc

class ChunkerConfig:
    sample_rate: int
    chunk_samples: int
    max_abs_sample: float  # a float sample beyond this is refused (2.0: room for int16-scaled overshoot)
    def __init__(self, sample_rate: int = 16000, chunk_samples: int = 5120, max_abs_sample: float = 2.0) -> None:
        """With arguments the config is validated at once (ValueError)."""
    def validate(self) -> None: ...

class Chunker:
    """Buffers audio of any piece size into fixed model chunks."""
    def __init__(self, config: ChunkerConfig) -> None: ...
    def accept_waveform(self, sample_rate: int, samples: _Samples) -> None:
        """Bad input (NaN/Inf, out of range, wrong rate or dtype) raises and appends nothing."""
    def input_finished(self) -> None:
        """Zero-pad the tail to a whole chunk; no more audio."""
    def is_ready(self) -> bool: ...
    @property
    def is_finished(self) -> bool: ...
    def pop_chunk(self) -> npt.NDArray[np.float32]:
        """The next whole chunk, shape (chunk_samples,). RuntimeError if none is ready."""
    def reset(self) -> None: ...
    @property
    def num_samples_accepted(self) -> int: ...
    @property
    def num_chunks_popped(self) -> int: ...
    @property
    def num_buffered_samples(self) -> int: ...
    @property
    def config(self) -> ChunkerConfig: ...

# ---------------------------------------------------------------- backend_binding.cc

class TensorInfo:
    @property
    def name(self) -> str: ...
    @property
    def shape(self) -> list[int]:
        """Without the batch axis."""
    @property
    def reset_at_segment(self) -> bool:
        """Cleared at every endpoint (the speaker statistics)."""

class LabelInfo:
    @property
    def mid(self) -> str: ...
    @property
    def name(self) -> str: ...

class ModelInfo:
    """What a model says about itself (its metadata JSON), checked against itself."""
    @staticmethod
    def from_json(json: str, where: str = "metadata") -> ModelInfo:
        """ValueError naming ``where`` if the document is not a supported model or contradicts itself."""
    @property
    def sample_rate(self) -> int: ...
    @property
    def chunk_samples(self) -> int: ...
    @property
    def frames_per_chunk(self) -> int: ...
    @property
    def frame_shift_ms(self) -> int: ...
    @property
    def input_name(self) -> str: ...
    @property
    def where(self) -> str:
        """The file the metadata came from (error messages name it)."""
    @property
    def outputs(self) -> list[TensorInfo]: ...
    @property
    def states(self) -> list[TensorInfo]: ...
    @property
    def tokens(self) -> list[str]:
        """CTC units; index 0 is the blank."""
    @property
    def labels(self) -> list[LabelInfo]: ...
    @property
    def backend(self) -> str: ...
    @property
    def precision(self) -> str: ...
    @property
    def json(self) -> str: ...

class Backend:
    """Runs the exported streaming step (made by the create_*_backend functions)."""
    @property
    def info(self) -> ModelInfo: ...
    @property
    def name(self) -> str: ...
    @property
    def max_batch(self) -> int:
        """The largest batch one step takes (0: any)."""

def create_executorch_backend(pte_path: str, threads: int = 1) -> Backend:
    """Load a .pte (XNNPACK) exported by mt2kd-edge. threads=1: each stream steps on its caller's thread, and
    streams stepped from different threads run in parallel; threads>1: ExecuTorch's shared pool, one at a time."""

def create_python_backend(
    metadata_json: str,
    where: str,
    step: Callable[
        [npt.NDArray[np.float32], list[npt.NDArray[np.float32]]],
        tuple[Sequence[npt.NDArray[np.float32]], Sequence[npt.NDArray[np.float32]]],
    ],
    max_batch: int = 0,
    name: str = "python",
) -> Backend:
    """A backend whose ``step(samples (B, chunk_samples), states) -> (outputs, states)`` is a Python
    callable, each list in the metadata's order with the batch first (how ONNX Runtime is reached)."""

def set_executorch_verbose_logs(verbose: bool) -> None:
    """Show ExecuTorch's Info/Debug log lines on stderr (default: only its errors, unless MT2KD_VERBOSE=1)."""

# ---------------------------------------------------------------- lm_binding.cc

class NgramLm:
    @staticmethod
    def load(path: str) -> NgramLm:
        """An ARPA or mt2kd binary LM; ValueError naming the file if it is missing or corrupt."""
    @staticmethod
    def from_arpa(text: str, where: str = "<arpa>") -> NgramLm: ...
    def save(self, path: str) -> None:
        """Write the compact binary form atomically."""
    def to_binary(self) -> bytes: ...
    @property
    def order(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def counts(self) -> list[int]:
        """n-grams per order."""
    def knows(self, word: str) -> bool: ...
    def sentence_score(self, words: Sequence[str], end: bool = True) -> float:
        """Natural-log probability of the words after <s> (and </s> when ``end``)."""

class Hotword:
    phrase: str
    boost: float  # log-score per matched letter; 0: the engine's hotword_boost
    def __init__(self, phrase: str, boost: float = 0.0) -> None: ...

def parse_hotwords(text: str, where: str = "<hotwords>") -> list[Hotword]:
    """One phrase a line, optionally ``:BOOST``; ValueError naming ``where`` and the line."""

class ContextGraph:
    """Hotwords compiled against a model's tokens (Aho-Corasick over letters)."""
    def __init__(self, hotwords: Sequence[Hotword], default_boost: float, tokens: Sequence[str]) -> None: ...
    @property
    def num_phrases(self) -> int: ...

# ---------------------------------------------------------------- speaker_store_binding.cc

class SpeakerMatch:
    @property
    def name(self) -> str | None:
        """None when nobody enrolled scores at or above the threshold."""
    @property
    def score(self) -> float:
        """Cosine with the best enrolled speaker (-1 if none)."""

class Verification:
    @property
    def name(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def accepted(self) -> bool: ...

def speaker_name_problem(name: str) -> str:
    """Why a name cannot name a speaker, or '' if it can."""

class SpeakerStore:
    """Enrolled speakers, persisted as JSON (atomic writes; new files 0600)."""
    def __init__(self, embedding_dim: int) -> None: ...
    def enroll(self, name: str, embedding: _Embedding) -> None: ...
    def identify(self, embedding: _Embedding, threshold: float) -> SpeakerMatch: ...
    def verify(self, name: str, embedding: _Embedding, threshold: float) -> Verification:
        """ValueError for a name nobody enrolled."""
    def remove(self, name: str) -> bool: ...
    def names(self) -> list[str]: ...
    def num_utterances(self, name: str) -> int: ...
    @property
    def embedding_dim(self) -> int: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> SpeakerStore:
        """ValueError for a corrupt or foreign file (which is left untouched)."""

# ---------------------------------------------------------------- dsp_binding.cc

class Resampler:
    def __init__(self, in_rate: int, out_rate: int, zero_crossings: int = 8) -> None: ...
    def accept(self, samples: _FloatArray, /) -> npt.NDArray[np.float32]: ...
    def flush(self) -> npt.NDArray[np.float32]: ...

class DecodedToken:
    @property
    def id(self) -> int: ...
    @property
    def frame(self) -> int:
        """The encoder frame (stream-global) where it was first emitted."""
    @property
    def end_frame(self) -> int:
        """The last frame it was still being emitted."""

class CtcDecoder:
    @overload
    def __init__(self, config: DecodingConfig, blank_id: int = 0) -> None: ...
    @overload
    def __init__(self, config: DecodingConfig, tokens: Sequence[str], lm: NgramLm | None = None,
                 hotwords: ContextGraph | None = None) -> None:
        """Beam search over these tokens (blank = 0) with an optional LM and hotwords."""
    def accept(self, log_probs: _FloatArray, first_frame: int = 0) -> None:
        """log_probs: (frames, vocab)."""
    def best(self) -> list[DecodedToken]: ...
    def final(self) -> list[DecodedToken]: ...
    def reset(self) -> None: ...

def detokenize(pieces: Sequence[str]) -> str: ...
def read_wav(path: str) -> tuple[npt.NDArray[np.float32], int]:
    """The C++ apps' WAV reader: (mono float32 samples, sample rate)."""

class TagScore:
    @property
    def index(self) -> int: ...
    @property
    def score(self) -> float:
        """Mean probability over the rolling window."""

class TagEvent:
    @property
    def index(self) -> int: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float:
        """< 0 while the event is still active."""
    @property
    def peak(self) -> float:
        """The highest window score during the event."""

class TagAggregator:
    def __init__(self, config: TaggingConfig, num_classes: int, frame_shift_ms: int) -> None: ...
    def accept(self, probs: _FloatArray, /) -> None:
        """probs: (frames, classes)."""
    def flush(self) -> None: ...
    def top_k(self) -> list[TagScore]: ...
    def active_events(self) -> list[TagEvent]: ...
    def take_finished_events(self) -> list[TagEvent]: ...
    def take_started_events(self) -> list[TagEvent]: ...

# ---------------------------------------------------------------- engine_binding.cc

class DecodingConfig:
    beam_size: int  # 1: greedy; 2..MAX_BEAM_SIZE: prefix beam search
    tokens_per_frame: int
    lm: str  # an LM file; "" for none (needs beam_size >= 2)
    lm_weight: float
    word_bonus: float
    oov_penalty: float
    hotword_boost: float
    max_revised_words: int
    lm_lookahead: bool
    def __init__(self) -> None: ...
    def validate(self) -> None: ...

class TaggingConfig:
    window_ms: int
    hop_ms: int
    top_k: int
    on_threshold: float
    off_threshold: float
    min_event_ms: int
    def __init__(self) -> None: ...

class EndpointConfig:
    """The Endpointer's (runtime/include/mt2kd/endpointer.h): blank runs plus the tagger's P(Speech)."""
    enabled: bool
    trailing_silence_ms: int
    min_speech_ms: int
    no_speech_timeout_ms: int
    max_utterance_ms: int
    speech_threshold: float
    tagger_vote_with_text: bool
    def __init__(self) -> None: ...

class EngineConfig:
    # Sections come back as copies: set a changed section back (config.decoding = d).
    decoding: DecodingConfig
    tagging: TaggingConfig
    endpoint: EndpointConfig
    resample: bool
    def __init__(self) -> None: ...
    def validate(self, frame_shift_ms: int) -> None:
        """Raise ValueError if an option is out of range (the Engine checks this too)."""

class WordResult:
    @property
    def word(self) -> str: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...

class AsrResult:
    @property
    def text(self) -> str: ...
    @property
    def tokens(self) -> list[str]: ...
    @property
    def token_ids(self) -> list[int]: ...
    @property
    def token_times_s(self) -> list[float]: ...
    @property
    def words(self) -> list[WordResult]: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...
    @property
    def segment(self) -> int: ...
    @property
    def is_final(self) -> bool: ...

class StreamEventType:
    PARTIAL: ClassVar[StreamEventType]  # the segment's best text changed
    FINAL: ClassVar[StreamEventType]  # a segment with words ended
    TAG_START: ClassVar[StreamEventType]  # a tag opened (end_s < 0)
    TAG_END: ClassVar[StreamEventType]  # a tag closed
    SPEAKER: ClassVar[StreamEventType]  # who spoke a segment that ended (with enrolled speakers only)
    __members__: ClassVar[dict[str, StreamEventType]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class StreamEvent:
    """One event of Stream.take_events; the rules are in runtime/include/mt2kd/event_maker.h."""
    @property
    def type(self) -> StreamEventType: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float:
        """< 0 for a tag start (still open)."""
    @property
    def segment(self) -> int: ...
    @property
    def text(self) -> str:
        """Partial and final."""
    @property
    def words(self) -> list[WordResult]:
        """Final."""
    @property
    def speaker(self) -> str | None:
        """Final and speaker: the identified speaker, None if nobody scored at the threshold."""
    @property
    def speaker_score(self) -> float:
        """Final and speaker: cosine with the best enrolled speaker (-1: none enrolled)."""
    @property
    def tag_index(self) -> int: ...
    @property
    def tag_label(self) -> str: ...
    @property
    def tag_score(self) -> float:
        """Tag start: the window score that opened it; tag end: the peak."""

class Stream:
    """Made by Engine.create_stream; used by one thread at a time."""
    def accept_waveform(self, sample_rate: int, samples: _Samples) -> None:
        """ValueError/TypeError on bad input, naming the sample by its position in the stream."""
    def input_finished(self) -> None: ...
    def is_ready(self) -> bool: ...
    @property
    def is_finished(self) -> bool: ...
    def is_endpoint(self) -> bool: ...
    def get_result(self) -> AsrResult: ...
    def reset(self) -> None: ...
    def top_tags(self) -> list[TagScore]: ...
    def active_tag_events(self) -> list[TagEvent]: ...
    def take_started_tag_events(self) -> list[TagEvent]: ...
    def take_finished_tag_events(self) -> list[TagEvent]: ...
    def take_events(self, speakers: SpeakerStore | None = None, speaker_threshold: float = 0.5) -> list[StreamEvent]:
        """The events of the chunk decoded since the last call (call it after every decode; RuntimeError
        if more than one was decoded); resets the stream at an endpoint."""
    def speaker_embedding(self) -> npt.NDArray[np.float32]:
        """Of the current segment, as of the last chunk (empty before the first)."""
    @property
    def processed_seconds(self) -> float: ...
    @property
    def speech_seconds(self) -> float: ...
    @property
    def num_chunks_decoded(self) -> int: ...

class DecodeTiming:
    @property
    def model_s(self) -> float: ...
    @property
    def core_s(self) -> float: ...
    @property
    def decoder_s(self) -> float: ...
    @property
    def chunks(self) -> int: ...

class Engine:
    """Shared and read-only: safe from many threads."""
    def __init__(self, backend: Backend, config: EngineConfig) -> None:
        """Loads the LM and runs one step on silence; ValueError for a model that does not match its metadata."""
    def create_stream(self, hotwords: ContextGraph | None = None) -> Stream: ...
    def make_hotwords(self, hotwords: Sequence[Hotword]) -> ContextGraph | None:
        """A hotword graph for create_stream (None for an empty list); ValueError naming a bad phrase."""
    @property
    def has_lm(self) -> bool: ...
    def decode_streams(self, streams: Sequence[Stream]) -> None:
        """One chunk of every ready stream, batched; releases the GIL."""
    def decode_stream(self, stream: Stream) -> None: ...
    @property
    def info(self) -> ModelInfo: ...
    @property
    def config(self) -> EngineConfig: ...
    @property
    def backend_name(self) -> str: ...
    def timing(self) -> DecodeTiming:
        """Seconds spent in the model's step and in the core's own work."""
