"""Issue 17: hostile and careless inputs, as a new user would try them, on the bundled model.

Model files whose metadata lies or whose weights are corrupt, audio with absurd rates or NaN in
the middle, a model step that fails, options out of range, commands given nonsense. Each gives a
one-line error that names the file or the option, and nothing is lost: no audio, no stream.
"""

from __future__ import annotations

import json
import resource
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mt2kd_edge import _core
from mt2kd_edge.backends import OnnxStep
from mt2kd_edge.engine import Engine, engine_config
from mt2kd_edge.model_files import ModelFileError
from mt2kd_edge.synthetic import speech_like

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "default"
CLI = shutil.which("mt2kd-edge", path=str(Path(sys.executable).parent))
CLIP = speech_like(5.0, seed=1)  # 16 chunks of 320 ms


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    assert CLI, "the mt2kd-edge entry point is not installed in this environment: run `make setup`"
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(out: subprocess.CompletedProcess, *fragments: str) -> str:
    """The command failed with exit code 2 and one `error:` line holding every fragment."""
    assert out.returncode == 2, (out.returncode, out.stdout[-1000:], out.stderr[-2000:])
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in out.stderr and len(errors) == 1, out.stderr[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
    return errors[0]


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("reliability") / "s16.wav"
    sf.write(path, CLIP, 16000, subtype="PCM_16")
    return path


def transcribe(engine: Engine, audio: np.ndarray, rate: int = 16000):
    s = engine.create_stream()
    s.accept_waveform(rate, audio)
    s.input_finished()
    engine.decode_all(s)
    return s


# ---- model files: the metadata is checked against the model, and corrupt files are refused ----

def onnx_with_metadata(directory: Path, change) -> Path:
    """A copy of the bundled int8 ONNX model whose embedded metadata went through ``change``."""
    import onnx

    proto = onnx.load(str(DEFAULT / "model.int8.onnx"))
    meta = json.loads(proto.metadata_props[0].value)
    change(meta)
    proto.metadata_props[0].value = json.dumps(meta, sort_keys=True, separators=(",", ":"))
    directory.mkdir()
    (directory / "model.int8.onnx").write_bytes(proto.SerializeToString())
    return directory


def _set(path: str, value):
    def change(meta):
        *parents, last = path.split("/")
        node = meta
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
    return change


def _extra_labels(meta):
    n = len(meta["labels"])
    meta["labels"] += [{"index": n + i, "mid": f"/m/x{i}", "name": f"extra {i}"} for i in range(5)]


def _one_token_short(meta):
    meta["tokens"] = meta["tokens"][:-1]


def _chunk_and_input(meta):  # consistent with itself, not with the graph
    spec = meta["streaming_spec"]
    spec["chunk_samples"], spec["frames_per_chunk"], spec["input"]["shape"] = 4480, 7, [4480]
    for out in spec["outputs"][:2]:
        out["shape"][0] = 7


@pytest.mark.parametrize("change,message", [
    (_set("streaming_spec/frames_per_chunk", 0), "frames_per_chunk is 0; it must be in 1-5120"),
    (_extra_labels, "tag_probs has shape (8, 48) but 53 labels"),
    (_one_token_short, "ctc_log_probs has shape (8, 256) but 255 tokens"),
    (_set("streaming_spec/chunk_samples", 4800), "input samples has shape (5120) but chunk_samples is 4800"),
    (lambda m: (_set("streaming_spec/chunk_samples", 4800)(m), _set("streaming_spec/input/shape", [4800])(m)),
     "chunk_samples 4800 at 16000 Hz is not frames_per_chunk 8 x frame_shift_ms 40"),
    (_chunk_and_input, "the graph's input samples is ('batch', 5120) but its metadata says (batch, 4480)"),
    (_set("streaming_spec/states/4/shape", [64, 190]), "input layer0.key is ('batch', 64, 192) but its metadata says (batch, 64, 190)"),
    (_set("streaming_spec/outputs/2/shape", [190]), "output 2 (speaker_embedding) is ('batch', 192) but its metadata says (batch, 190)"),
    (_set("streaming_spec/states/5/name", "layer0.key"), "duplicate tensor names in streaming spec: ['layer0.key']"),
    (_set("streaming_spec/sample_rate", 2**31 - 1), "sample_rate is 2147483647; it must be in 4000-192000"),
    (_set("streaming_spec/states/0/shape", [2**20, 2**20]), "frontend.samples: shape [1048576,1048576] is too large"),
])
def test_onnx_metadata_is_checked_against_the_model_at_load(tmp_path, change, message):
    model = onnx_with_metadata(tmp_path / "m", change)
    with pytest.raises(ModelFileError, match="model.int8.onnx: ") as error:
        Engine.from_dir(model, backend="onnx")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_frames_per_chunk_zero_is_an_error_not_a_crash(tmp_path, wav):
    """Was SIGFPE (rc 136) with no message."""
    model = onnx_with_metadata(tmp_path / "m", _set("streaming_spec/frames_per_chunk", 0))
    one_line_error(run("run", "--backend", "onnx", "--model", str(model), str(wav)),
                   f"{model}/model.int8.onnx", "frames_per_chunk is 0")


def pte_with_edit(directory: Path, old: bytes, new: bytes) -> Path:
    """The bundled .pte with one same-length edit of its embedded metadata string."""
    data = (DEFAULT / "model.int8.pte").read_bytes()
    assert len(old) == len(new) and data.count(old) >= 1
    directory.mkdir()
    (directory / "model.int8.pte").write_bytes(data.replace(old, new, 1))
    return directory


@pytest.mark.parametrize("old,new,message", [
    (b'"frames_per_chunk":8', b'"frames_per_chunk":0', "frames_per_chunk is 0"),
    (b'"shape":[64,192]', b'"shape":[64,190]', "the program's input 5 (layer0.key) is (1, 64, 192) but its metadata "
                                               "says float32 (1, 64, 190)"),
    (b'"shape":[192]', b'"shape":[190]', "the program's output 2 (speaker_embedding) is (1, 192)"),
])
def test_pte_metadata_is_checked_against_the_program_at_load(tmp_path, old, new, message):
    model = pte_with_edit(tmp_path / "m", old, new)
    with pytest.raises(ModelFileError, match="model.int8.pte: ") as error:
        Engine.from_dir(model)
    assert message in str(error.value)


def corrupt_copy(directory: Path, at: float, fill: bytes) -> Path:
    """The bundled model directory (manifest included) with 64 KB of its .pte overwritten at ``at``."""
    shutil.copytree(DEFAULT, directory, ignore=shutil.ignore_patterns("demo", "*.onnx"))
    data = bytearray((DEFAULT / "model.int8.pte").read_bytes())
    start = int(len(data) * at) // 4 * 4
    data[start:start + 65536] = (fill * (65536 // len(fill)))[:65536]
    (directory / "model.int8.pte").write_bytes(bytes(data))
    return directory


def test_a_corrupt_model_file_is_refused_by_its_manifest(tmp_path, wav):
    """64 KB flipped in the middle loaded, exited 0 and gave another transcript."""
    model = corrupt_copy(tmp_path / "flipped", 0.5, bytes(range(256)))
    with pytest.raises(ModelFileError, match="model.int8.pte: contents do not match the sha256 in .*manifest.json"):
        Engine.from_dir(model)
    one_line_error(run("run", "--model", str(model), str(wav)), "model.int8.pte: contents do not match the sha256",
                   "--no-verify")
    # Skipping the check is the user's call. Whether the flipped program still loads depends on what the bytes hit
    # (the program's layout decides it): it runs, or fails to load with a clear error, never the sha256 refusal.
    try:
        Engine.from_dir(model, verify=False)
    except ModelFileError as err:
        assert "model.int8.pte" in str(err) and "does not load" in str(err), err
    shutil.copy(DEFAULT / "model.int8.onnx", model)  # a file the manifest does not list cannot be checked
    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["files"]["model.int8.onnx"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="model.int8.onnx: not listed in"):
        Engine.from_dir(model, backend="onnx")
    Engine.from_dir(DEFAULT)  # the real bundle verifies


def nan_weights_copy(directory: Path) -> Path:
    """The bundled model directory with every float weight of its int8 ONNX set to NaN (scales and biases
    included). Corrupting bytes of the .pte instead is not portable: which weights a byte range hits, and
    whether NaN survives XNNPACK's int8 kernels, differ by CPU (it gave NaN on Intel, nothing on AMD EPYC)."""
    import onnx
    from onnx import numpy_helper

    shutil.copytree(DEFAULT, directory, ignore=shutil.ignore_patterns("demo", "*.pte"))
    graph = onnx.load(str(DEFAULT / "model.int8.onnx"))
    for i, init in enumerate(graph.graph.initializer):
        if init.data_type == onnx.TensorProto.FLOAT:
            weights = numpy_helper.to_array(init)
            graph.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.full_like(weights, np.nan), init.name))
    onnx.save(graph, str(directory / "model.int8.onnx"))
    return directory


def test_weights_that_give_nan_are_refused_even_unverified(tmp_path, wav):
    """NaN tags and embeddings and an empty transcript used to pass on silently."""
    model = nan_weights_copy(tmp_path / "nan")
    with pytest.raises(ModelFileError, match="model.int8.onnx: the model step gave NaN or Inf in ctc_log_probs"):
        Engine.from_dir(model, backend="onnx", verify=False)
    one_line_error(run("run", "--no-verify", "--backend", "onnx", "--model", str(model), str(wav)),
                   "model.int8.onnx: the model step gave NaN")


# ---- a step that fails or returns garbage: refused, and the stream is left as it was ----

class ScriptedStep:
    """The bundled model's real ONNX step, except on the calls listed in ``faults`` (counted from 1;
    call 1 is the engine's test step at load)."""

    def __init__(self, faults: dict[int, str]) -> None:
        path = DEFAULT / "model.int8.onnx"
        self.metadata = _core.ModelInfo.from_json((DEFAULT / "model.json").read_text(), str(path))
        self.step, self.faults, self.calls = OnnxStep(path, self.metadata, 1), faults, 0

    def __call__(self, samples, states):
        self.calls += 1
        fault = self.faults.get(self.calls)
        if fault == "raise":
            raise RuntimeError("simulated backend failure")
        outputs, new_states = self.step(samples, states)
        if fault == "nan":
            outputs[1] = np.full_like(outputs[1], np.nan)
        if fault == "shape":
            outputs[0] = outputs[0][:, :4]
        return outputs, new_states

    def engine(self) -> Engine:
        where = str(DEFAULT / "model.int8.onnx")
        return Engine(_core.create_python_backend(self.metadata.json, where, self, 0, "scripted"), engine_config())


def test_a_failed_step_loses_no_audio_and_a_retry_decodes_the_same_chunk():
    """The chunk used to leave the buffer before the step ran: 15 of 16 chunks, another transcript."""
    # the reference: the same backend and config with no faults, stepped the same way
    plain = ScriptedStep({}).engine()
    reference = plain.create_stream()
    reference.accept_waveform(16000, CLIP)
    reference.input_finished()
    while reference.is_ready():
        plain.decode(reference)
    scripted = ScriptedStep({4: "raise", 7: "nan", 9: "shape"})
    engine = scripted.engine()
    stream = engine.create_stream()
    stream.accept_waveform(16000, CLIP)
    stream.input_finished()
    failures = []
    while stream.is_ready():
        before = stream._core.num_chunks_decoded
        try:
            engine.decode(stream)
        except RuntimeError as e:
            failures.append(str(e))
            assert stream._core.num_chunks_decoded == before and stream.is_ready()  # nothing changed
    assert failures[0] == "simulated backend failure"
    assert "model.int8.onnx: the model step gave NaN or Inf in tag_probs" in failures[1]
    assert "model.int8.onnx: the model's output ctc_log_probs has shape (1, 4, 256) but its metadata says (1, 8, 256)" in failures[2]
    assert len(failures) == 3 and stream._core.num_chunks_decoded == 16
    assert stream.transcript() == reference.transcript()
    assert np.array_equal(stream.speaker_embedding(), reference.speaker_embedding())


@pytest.mark.parametrize("fault,message", [("nan", "gave NaN or Inf in tag_probs"),
                                           ("shape", "output ctc_log_probs has shape (1, 4, 256)"),
                                           ("raise", "does not run with the shapes its metadata gives "
                                                     "(RuntimeError: simulated backend failure)")])
def test_a_model_that_fails_its_test_step_is_refused_at_load(fault, message):
    with pytest.raises(ModelFileError, match="model.int8.onnx: ") as error:
        ScriptedStep({1: fault}).engine()
    assert message in str(error.value)


# ---- audio input: rates within 4-192 kHz, errors at the absolute position, the rest kept ----

def test_absurd_sample_rates_are_refused_without_allocating():
    """2**31 - 1 Hz grew the process to 24 GB before the kernel killed it."""
    engine = Engine.from_dir(DEFAULT)
    stream = engine.create_stream()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for rate in (2**31 - 1, 2**40, 1, 3999, 192001, 0, -16000):
        with pytest.raises(ValueError, match=f"sample rate {rate} Hz is outside the supported 4000-192000 Hz"):
            stream.accept_waveform(rate, np.zeros(1600, np.float32))
    with pytest.raises(ValueError, match="2147483647 Hz is outside"):
        _core.Resampler(2**31 - 1, 16000)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100_000  # KB
    for rate in (4000, 192000):  # the edges of the range work
        s = engine.create_stream()
        s.accept_waveform(rate, np.zeros(rate // 2, np.float32))
        s.input_finished()
        engine.decode_all(s)
        assert s.processed_seconds == pytest.approx(0.5, abs=0.05)


def header_only_rate(path: Path, rate: int, seconds_at_16k: float = 5.0) -> Path:
    """A PCM16 WAV of silence whose header claims ``rate``."""
    data = np.zeros(int(16000 * seconds_at_16k), np.int16).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (2 * rate) % 2**32, 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt +
                     b"data" + struct.pack("<I", len(data)) + data)
    return path


def test_wav_headers_with_absurd_rates_are_refused(tmp_path):
    """A 160 KB file claiming 2147483647 Hz exhausted memory; one claiming 1 Hz 'played' 80,000 s."""
    huge, tiny = header_only_rate(tmp_path / "huge.wav", 2**31 - 1), header_only_rate(tmp_path / "slow.wav", 1)
    for path, rate in ((huge, 2147483647), (tiny, 1)):
        one_line_error(run("run", str(path), timeout=60), f"{path}: the header says {rate} Hz; supported rates are "
                                                          "4000-192000 Hz")
        with pytest.raises(ValueError, match=f"{path.name}: WAV header says {rate} Hz"):
            _core.read_wav(str(path))  # the C++ apps' reader too


def test_bad_audio_is_reported_at_its_place_in_the_stream():
    engine = Engine.from_dir(DEFAULT)
    for rate in (16000, 48000):  # straight into the chunker, and through the resampler
        audio = np.zeros(rate * 4, np.float32)
        audio[48123] = np.nan
        stream = engine.create_stream()
        pieces = np.array_split(audio, len(audio) // (rate // 10))
        with pytest.raises(ValueError, match=rf"^sample 48123 \({48123 / rate:.3f} s\) is NaN or Inf$"):
            for piece in pieces:
                stream.accept_waveform(rate, piece)
    stream = engine.create_stream()
    stream.accept_waveform(16000, np.zeros(1000, np.float32))
    with pytest.raises(ValueError, match=r"^sample 1002 \(0.063 s\) = 3 is outside \[-1, 1\]"):
        stream.accept_waveform(16000, np.array([0, 0, 3.0], np.float32))


def test_a_bad_file_among_several_keeps_the_rest(tmp_path):
    """`run s16.wav nan_late.wav r8000.wav`: 'sample 123', no file name, no final event for the 3 s
    before the NaN, and the third file never ran."""
    sf.write(tmp_path / "s16.wav", CLIP, 16000, subtype="PCM_16")
    late = CLIP.copy()
    late[48123] = np.nan
    sf.write(tmp_path / "nan_late.wav", late, 16000, subtype="FLOAT")
    sf.write(tmp_path / "r8000.wav", CLIP[::2], 8000, subtype="PCM_16")
    files = [str(tmp_path / n) for n in ("s16.wav", "nan_late.wav", "r8000.wav")]
    out = run("run", "--jsonl", *files)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    errors = [line for line in out.stderr.splitlines() if not line.startswith("I ")]  # ExecuTorch's cpuinfo log
    assert errors == [f"error: {files[1]}: sample 48123 (3.008 s) is NaN or Inf", "error: 1 of 3 files failed"]
    events = [json.loads(line) for line in out.stdout.splitlines()]
    finals = {Path(e["file"]).name: e for e in events if e["type"] == "final"}
    assert set(finals) == {"s16.wav", "nan_late.wav", "r8000.wav"}
    assert finals["nan_late.wav"]["end_ms"] == 3000  # everything up to the refused 100 ms piece
    assert finals["nan_late.wav"]["text"] and finals["r8000.wav"]["end_ms"] == 5000


def test_reset_does_not_reopen_a_finished_input_and_the_error_says_so():
    engine = Engine.from_dir(DEFAULT)
    stream = transcribe(engine, CLIP[:16000])
    stream.reset()
    for rate in (16000, 48000):
        with pytest.raises(ValueError, match="after input_finished") as error:
            stream.accept_waveform(rate, np.zeros(100, np.float32))
        assert "create a new stream" in str(error.value) and "reset()" not in str(error.value)


# ---- options: validated, with their ranges in --help ----

@pytest.mark.parametrize("args,option", [
    (("run", "--beam-size", "100000", "x.wav"), "--beam-size: must be 1-64, got 100000"),
    (("run", "--chunk-ms", "0", "x.wav"), "--chunk-ms: must be 10-10000, got 0"),
    (("run", "--chunk-ms", "-20", "x.wav"), "--chunk-ms: must be 10-10000, got -20"),
    (("run", "--threads", "-3", "x.wav"), "--threads: must be 1-64, got -3"),
    (("run", "--threads", "two", "x.wav"), "--threads: 'two' is not a whole number"),
    (("live", "--sample-rate", "1"), "--sample-rate: must be 4000-192000, got 1"),
    (("live", "--max-seconds", "nan"), "--max-seconds: must be more than 0"),
    (("soak", "--minutes", "0"), "--minutes: must be 0.01-10080, got 0"),
    (("soak", "--minutes", "-1"), "--minutes: must be 0.01-10080, got -1"),
    (("check", "--seconds", "0"), "--seconds: must be more than 0 and at most 3600, got 0"),
    (("check", "--chunk-ms", "0"), "--chunk-ms: must be 40-10000, got 0"),
    (("bench", "--cores", "0"), "--cores: each core count must be 1-"),
    (("enroll", "--min-speech-s", "-1", "ann", "x.wav"), "--min-speech-s: must be 0-600, got -1"),
])
def test_options_out_of_range_are_refused_in_one_line(args, option):
    out = run(*args, timeout=60)
    assert out.returncode == 2 and out.stdout == "", out
    assert out.stderr.count("\n") == 1 and option in out.stderr and "usage:" not in out.stderr, out.stderr


def test_help_gives_every_range():
    text = run("run", "--help").stdout
    for fragment in ("1-64 (1: greedy", "10-10000 ms", "threads, 1-64"):
        assert fragment in text, text
    assert "0.01-10080" in run("soak", "--help").stdout and "4000-192000 Hz" in run("live", "--help").stdout


def test_the_api_bounds_the_beam_and_threads_too():
    with pytest.raises(ValueError, match="beam_size must be in 1-64, got 100000"):
        Engine.from_dir(DEFAULT, beam_size=100000)
    with pytest.raises(ValueError, match="threads must be a whole number in 1-256, got -3"):
        Engine.from_dir(DEFAULT, backend="onnx", threads=-3)


# ---- commands ----

def test_soak_bench_and_check_refuse_nonsense(tmp_path):
    from mt2kd_edge.soak import soak

    with pytest.raises(ValueError, match="soak needs at least 100 ms of audio, got 0 s"):
        soak(Engine.from_dir(DEFAULT), 0)  # was ZeroDivisionError
    one_line_error(run("bench", "--model", "/nonexistent", "--seconds", "1", "--cores", "1"),
                   "/nonexistent: model directory not found")  # was exit 0 and an empty table
    one_line_error(run("bench", "--model", str(DEFAULT), "--checkpoint", str(tmp_path / "no.pt"), "--seconds", "1"),
                   "no.pt: checkpoint file not found")


class Foreign:  # not a tensor or plain data: torch's weights-only unpickler refuses it
    pass


def test_a_garbage_checkpoint_never_suggests_weights_only_false(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"weights": Foreign()}, tmp_path / "foreign.pt")
    (tmp_path / "zeros.pt").write_bytes(b"\x00" * 64)
    (tmp_path / "text.pt").write_text("hello")
    for name in ("foreign.pt", "zeros.pt", "text.pt"):
        out = run("spec", "--checkpoint", str(tmp_path / name))
        line = one_line_error(out, f"{name}: not a readable checkpoint")
        assert "weights_only" not in out.stderr and "Warning" not in out.stderr, out.stderr
        assert "not an mt2kd-edge checkpoint" in line or name == "text.pt"


def test_atomic_write_text_leaves_the_old_file_whole_when_a_write_fails(tmp_path):
    from mt2kd_edge.fileio import atomic_write_text

    report = tmp_path / "teachers.json"
    atomic_write_text(report, "old\n")
    with pytest.raises(TypeError):
        atomic_write_text(report, 123)  # the write fails after the temporary file exists
    assert report.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["teachers.json"]  # no temporary file left behind
    atomic_write_text(report, "new\n")
    assert report.read_text() == "new\n"
