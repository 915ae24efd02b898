"""The streaming runtime as users drive it: Engine.from_dir on an exported model, both backends."""

from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from export.runners import TorchStep, stream as torch_stream
from mt2kd_edge.engine import Engine
from mt2kd_edge.model_files import ModelFileError
from mt2kd_edge.results import FinalEvent, PartialEvent, SpeakerEvent, TagEvent
from mt2kd_edge.speakers import SpeakerStore, SpeakerStoreError
from mt2kd_edge.synthetic import speech_like
from train.evaluation.metrics import cosine

from conftest import ctc_greedy

CLIP = speech_like(3.0, seed=11)


def transcribe(engine: Engine, audio: np.ndarray, pieces: list[int] | None = None, rate: int = 16000):
    s = engine.create_stream()
    bounds = np.cumsum(pieces) if pieces else []
    for piece in np.split(audio, [b for b in bounds if b < len(audio)]):
        s.accept_waveform(rate, piece)
        engine.decode_all(s)
    s.input_finished()
    engine.decode_all(s)
    return s


@pytest.fixture(scope="module")
def engines(tiny_export):
    d = tiny_export["dir"]
    return {"executorch": Engine.from_dir(d, backend="executorch", precision="fp32"),
            "onnx": Engine.from_dir(d, backend="onnx", precision="fp32")}


def test_engine_matches_the_torch_model(engines, tiny_export):
    ref = torch_stream(TorchStep(tiny_export["model"]), CLIP)
    frames = -(-len(CLIP) // 640)  # frames holding real audio
    expected = ctc_greedy(ref["ctc_log_probs"][:frames])
    for name, engine in engines.items():
        s = transcribe(engine, CLIP)
        result = s.transcript()
        assert [t.id for t in result.tokens] == expected, name
        assert result.is_final and result.end_s == pytest.approx(frames * 0.04)
        assert cosine(s.speaker_embedding(), ref["speaker_embedding"]) > 0.9999, name


def test_executorch_and_onnx_backends_agree(engines):
    a, b = (transcribe(engines[n], CLIP) for n in ("executorch", "onnx"))
    assert a.transcript().text == b.transcript().text and a.transcript().text
    assert [t.index for t in a.top_tags()] == [t.index for t in b.top_tags()]
    assert cosine(a.speaker_embedding(), b.speaker_embedding()) > 0.9999


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.integers(min_value=1, max_value=9000), min_size=1, max_size=12))
def test_results_do_not_depend_on_how_audio_is_chunked(engines, pieces):
    engine = engines["executorch"]
    whole = transcribe(engine, CLIP)
    split = transcribe(engine, CLIP, pieces)
    assert split.transcript() == whole.transcript()
    assert np.array_equal(split.speaker_embedding(), whole.speaker_embedding())
    assert split.top_tags() == whole.top_tags()


def test_batched_decoding_equals_one_stream_at_a_time(engines):
    engine = engines["onnx"]  # dynamic batch: several streams in one backend call
    clips = [speech_like(d, seed=i) for i, d in enumerate((1.3, 2.1, 2.9))]
    streams = [engine.create_stream() for _ in clips]
    for s, c in zip(streams, clips):
        s.accept_waveform(16000, c)
        s.input_finished()
    while any(s.is_ready() for s in streams):
        engine.decode(streams)
    for s, c in zip(streams, clips):
        alone = transcribe(engine, c)
        assert s.transcript().tokens == alone.transcript().tokens
        assert cosine(s.speaker_embedding(), alone.speaker_embedding()) > 0.99999


def test_bad_input_raises_clearly_and_the_stream_stays_usable(engines):
    engine = engines["executorch"]
    s = engine.create_stream()
    s.accept_waveform(16000, CLIP[:4000])
    bad = [
        (np.zeros(100, np.float64), TypeError, "float32"),
        (np.zeros((2, 100), np.float32), ValueError, "1-D"),
        (np.array([0.0, np.nan], np.float32), ValueError, "NaN"),
        (np.full(10, 300.0, np.float32), ValueError, "outside"),
        ([0.0, 0.1], TypeError, "numpy array"),
    ]
    for samples, error, match in bad:
        with pytest.raises(error, match=match):
            s.accept_waveform(16000, samples)
    s.accept_waveform(16000, np.zeros(0, np.float32))  # empty: fine, nothing happens
    s.accept_waveform(16000, CLIP[4000:])
    s.accept_waveform(16000, np.zeros(16000 * 60, np.float32))  # a huge chunk is just a lot of audio
    s.input_finished()
    engine.decode_all(s)
    with pytest.raises(ValueError, match="after input_finished"):
        s.accept_waveform(16000, CLIP[:100])
    reference = transcribe(engine, np.concatenate([CLIP, np.zeros(16000 * 60, np.float32)]))
    assert s.transcript().tokens == reference.transcript().tokens


def test_missing_or_broken_model_directories(tmp_path, tiny_export):
    with pytest.raises(ModelFileError, match="model directory not found"):
        Engine.from_dir(tmp_path / "nope")
    with pytest.raises(ModelFileError, match="no executorch model file"):
        Engine.from_dir(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.int8.pte").write_bytes(b"\x00" * 100)
    with pytest.raises(ModelFileError, match="model.int8.pte"):
        Engine.from_dir(broken)
    (broken / "model.int8.onnx").write_bytes((tiny_export["dir"] / "model.int8.onnx").read_bytes()[:3000])
    with pytest.raises(ModelFileError, match="model.int8.onnx: not a loadable ONNX model"):
        Engine.from_dir(broken, backend="onnx")
    with pytest.raises(ValueError, match="unknown backend"):
        Engine.from_dir(tiny_export["dir"], backend="tflite")
    with pytest.raises(TypeError, match="unknown engine option 'beam'"):
        Engine.from_dir(tiny_export["dir"], beam=4)


def test_other_sample_rates_are_resampled_or_refused(tiny_export, engines):
    from scipy.signal import resample_poly

    clip48 = resample_poly(CLIP, 3, 1).astype(np.float32)
    s48 = transcribe(engines["executorch"], clip48, pieces=[960] * 200, rate=48000)
    s16 = transcribe(engines["executorch"], CLIP)
    assert s48.processed_seconds == pytest.approx(s16.processed_seconds, abs=0.04)
    assert cosine(s48.speaker_embedding(), s16.speaker_embedding()) > 0.98
    strict = Engine.from_dir(tiny_export["dir"], precision="fp32", resample=False)
    with pytest.raises(ValueError, match="48000 Hz does not match the model's 16000 Hz and resampling is off"):
        strict.create_stream().accept_waveform(48000, clip48[:100])


@pytest.mark.parametrize("backend", ["onnx", "executorch"])  # ExecuTorch: one program copy per concurrent caller
def test_one_engine_many_threads_each_with_its_own_streams(engines, backend):
    engine = engines[backend]
    clips = [speech_like(1.5 + 0.3 * i, seed=20 + i) for i in range(4)]

    def result(stream):
        return stream.transcript(), stream.speaker_embedding().tolist()

    expected = [result(transcribe(engine, c)) for c in clips]
    results = [None] * len(clips)

    def work(i):
        for _ in range(2):
            results[i] = result(transcribe(engine, clips[i], pieces=[1234] * 40))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clips))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


def test_endpoints_split_segments_and_reset(tiny_export):
    engine = Engine.from_dir(tiny_export["dir"], precision="fp32", max_utterance_ms=1000)
    events = list(engine.events(np.array_split(CLIP, 9)))
    finals = [e for e in events if isinstance(e, FinalEvent)]
    chunk_s = engine.chunk_samples / 16000  # the limit is checked after each chunk
    assert len(finals) >= 3 and all(e.end_s - e.start_s <= 1.0 + chunk_s + 1e-6 for e in finals)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(finals, finals[1:]))  # contiguous
    assert any(isinstance(e, PartialEvent) for e in events)
    for e in events:
        if isinstance(e, TagEvent):
            assert 0 <= e.start_s < e.end_s <= 3.0 + 1e-6 and e.label in engine.labels
    assert all(e.as_dict()["type"] in ("partial", "final", "tag", "speaker") for e in events)


def test_speaker_store_enroll_identify_verify_persist(tmp_path, engines, tiny_export):
    engine = engines["executorch"]
    ann, bob = speech_like(2.0, seed=1), 0.3 * np.random.default_rng(5).standard_normal(32000).astype(np.float32)
    path = tmp_path / "speakers.json"
    store = SpeakerStore(engine.embedding_dim, path)
    store.enroll("ann", engine.embed(ann[:16000]))
    store.enroll("ann", engine.embed(ann[16000:]))
    store.enroll("bob", engine.embed(bob))
    store.save()
    again = Engine.from_dir(tiny_export["dir"], precision="fp32", speakers=path, speaker_threshold=0.0)
    assert again.speakers.names() == ["ann", "bob"] and again.speakers.num_utterances("ann") == 2
    assert again.identify(engine.embed(ann)).name == "ann"
    score, accepted = again.speakers.verify("ann", engine.embed(ann), threshold=0.0)
    assert accepted and score > again.speakers.verify("bob", engine.embed(ann), 0.0)[0]
    with pytest.raises(SpeakerStoreError, match="unknown speaker 'carl'"):
        again.speakers.verify("carl", engine.embed(ann), 0.5)
    again.speakers.remove("bob")
    with pytest.raises(SpeakerStoreError, match="unknown speaker"):
        again.speakers.remove("bob")
    # events name the speaker of each utterance
    events = list(again.events([ann]))
    assert any(isinstance(e, SpeakerEvent) and e.name == "ann" for e in events)


def test_corrupt_or_foreign_speaker_files_are_refused_and_kept(tmp_path):
    for content in (b"{ broken", b'{"format": "someone-else"}'):
        path = tmp_path / "speakers.json"
        path.write_bytes(content)
        with pytest.raises(SpeakerStoreError, match="left untouched"):
            SpeakerStore(16, path)
        assert path.read_bytes() == content
    store = SpeakerStore(16)
    store.enroll("x", np.ones(16, np.float32))
    store.save(tmp_path / "ok.json")
    with pytest.raises(SpeakerStoreError, match="holds 16-d embeddings; this model makes 8-d"):
        SpeakerStore(8, tmp_path / "ok.json")


def test_the_cpp_example_agrees_with_the_python_api(cpp_build, tiny_export, tmp_path, engines):
    wav = tmp_path / "clip.wav"
    sf.write(wav, CLIP, 16000, subtype="FLOAT")
    out = subprocess.run([str(cpp_build / "mt2kd_transcribe"), str(tiny_export["dir"] / "model.fp32.pte"), str(wav)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    finals = [line.split(" unknown: ", 1)[1] for line in out.stdout.splitlines() if " unknown: " in line]  # run's lines
    python_finals = [e.text for e in engines["executorch"].events([CLIP]) if isinstance(e, FinalEvent)]
    assert finals == python_finals and finals
    assert "backend executorch (fp32)" in out.stdout
    top = out.stdout.split("top tags:")[1].split("=")[0].strip()
    assert top == engines["executorch"].labels[transcribe(engines["executorch"], CLIP).top_tags()[0].index]


def test_runtime_needs_no_torch(tiny_export):
    code = (f"import sys; sys.modules['torch'] = None\n"
            f"from mt2kd_edge.engine import Engine\n"
            f"import numpy as np\n"
            f"for b in ('executorch', 'onnx'):\n"
            f"    e = Engine.from_dir({str(tiny_export['dir'])!r}, backend=b)\n"
            f"    s = e.create_stream(); s.accept_waveform(16000, np.zeros(8000, np.float32)); e.decode_all(s)\n"
            f"print('ok')\n")
    out = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
