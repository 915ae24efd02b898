"""Export: every form from one checkpoint, parity across runtimes, sherpa-onnx, bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from export import model_dir as md
from export.runners import ExecuTorchStep, OnnxStep, TorchStep, stream
from mt2kd_edge.model_files import ModelFileError, read_model_metadata
from mt2kd_edge.synthetic import speech_like
from train.evaluation.metrics import cosine
from train.evaluation.quantization import compare

from conftest import LABELS, TOKENS, ctc_greedy

FP32_ATOL = 1e-4  # the bound for torch / ONNX Runtime / ExecuTorch agreement
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tiny_export):
    return {**tiny_export, "raw": torch.load(tiny_export["ckpt"], weights_only=True)}


@pytest.fixture(scope="module")
def clips():
    return [speech_like(2.2, seed=i) for i in range(3)]


def test_model_dir_has_every_form_and_a_true_manifest(exported):
    d = exported["dir"]
    for name in ("model.json", "tokens.txt", "labels.csv", "model.fp32.onnx", "model.int8.onnx",
                 "model.fp32.pte", "model.int8.pte", "sherpa/asr.onnx", "sherpa/asr.int8.onnx", "sherpa/speaker.onnx",
                 "sherpa/tagging.onnx", "sherpa/tokens.txt", "sherpa/labels.csv", "manifest.json"):
        assert (d / name).is_file(), name
    manifest = json.loads((d / "manifest.json").read_text())
    assert set(manifest["files"]) == {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()} - {"manifest.json"}
    for name, info in manifest["files"].items():
        assert info["bytes"] == (d / name).stat().st_size and info["sha256"] == md.sha256(d / name)
    assert not list(d.parent.glob(".model.*"))  # no staging or old directories left behind
    assert (d / "tokens.txt").read_text().splitlines()[:2] == ["<blk> 0", "▁the 1"]
    assert (d / "labels.csv").read_text().splitlines()[-1] == '4,/m/mt2kd_04,"Water tap faucet"'


def test_metadata_is_the_same_in_every_file(exported):
    d, model = exported["dir"], exported["model"]
    common = read_model_metadata(d / "model.json")
    assert common["streaming_spec"] == model.streaming_spec().to_dict()
    assert common["tokens"] == TOKENS and [lab["name"] for lab in common["labels"]] == [n for _, n in LABELS]
    assert common["model_config"] == model.config.to_dict() and common["placeholder_vocabulary"] is False
    for name, backend, precision in (("model.fp32.onnx", "onnx", "fp32"), ("model.int8.onnx", "onnx", "int8"),
                                     ("model.fp32.pte", "executorch", "fp32"), ("model.int8.pte", "executorch", "int8")):
        meta = read_model_metadata(d / name)
        assert (meta["backend"], meta["precision"]) == (backend, precision)
        assert meta["streaming_spec"] == common["streaming_spec"] and meta["tokens"] == TOKENS


def test_fp32_runtimes_agree_with_torch_on_a_multichunk_stream(exported, clips):
    d = exported["dir"]
    runners = [OnnxStep(d / "model.fp32.onnx"), ExecuTorchStep(d / "model.fp32.pte")]
    for clip in clips:
        ref = stream(TorchStep(exported["model"]), clip)
        assert ref["ctc_log_probs"].shape[0] >= 3 * exported["model"].config.chunk_frames  # several chunks
        for runner in runners:
            out = stream(runner, clip)
            for key in ref:
                assert np.abs(out[key] - ref[key]).max() < FP32_ATOL, (type(runner).__name__, key)


def test_executorch_program_runs_nearly_all_inside_xnnpack(exported):
    """Each op XNNPACK does not take runs as a portable kernel and splits the program into one more delegate
    call; for_xnnpack rewrites the model so that only the front-end and head odds and ends stay out."""
    from export.executorch_native import for_xnnpack, lowered, ops_outside_delegates
    from export.step_module import StreamingStep, example_inputs

    model = exported["model"].eval()
    rewritten_model = for_xnnpack(model)
    inputs = example_inputs(model)
    for a, b in zip(StreamingStep(rewritten_model)(*inputs), StreamingStep(model)(*inputs)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    plain, rewritten = (ops_outside_delegates(lowered(StreamingStep(m), model, {})) for m in (model, rewritten_model))
    assert plain["aten.native_layer_norm.default"] > 0  # what the rewrite is for
    left = {op for op in rewritten if any(s in op for s in ("layer_norm", "expand_copy", "index", "split"))}
    assert not left, left
    assert rewritten["delegate calls"] * 3 <= plain["delegate calls"], (plain, rewritten)
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in rewritten_model.modules())
    assert any(isinstance(m, torch.nn.LayerNorm) for m in model.modules())  # the original is untouched


def test_int8_stays_within_stated_bounds_of_fp32(exported, clips):
    """Bounds for this tiny random model (trained models get the task-level report):
    ONNX dynamic int8 measured tag-prob diff 0.007, embedding cosine 0.9999;
    ExecuTorch static int8 measured 0.11 and 0.994."""
    d = exported["dir"]
    ref = [stream(TorchStep(exported["model"]), c) for c in clips]
    onnx_int8 = compare(ref, [stream(OnnxStep(d / "model.int8.onnx"), c) for c in clips])
    assert onnx_int8.max_abs_tag_prob_diff < 0.05 and onnx_int8.min_embedding_cosine > 0.999
    pte_int8 = compare(ref, [stream(ExecuTorchStep(d / "model.int8.pte"), c) for c in clips])
    assert pte_int8.max_abs_tag_prob_diff < 0.3 and pte_int8.min_embedding_cosine > 0.97


def test_onnx_decodes_a_batch_of_streams_in_one_call(exported, clips):
    runner = OnnxStep(exported["dir"] / "model.fp32.onnx")
    chunk = runner.spec.chunk_samples
    a, b = clips[0][:chunk * 2], clips[1][:chunk * 2]
    states = runner.init_state(2)
    batched = []
    for k in range(2):
        (ctc, _, _), states = runner.step(np.stack([a, b])[:, k * chunk:(k + 1) * chunk], states)
        batched.append(ctc)
    batched = np.concatenate(batched, axis=1)
    for i, clip in enumerate((a, b)):
        alone = stream(runner, clip)["ctc_log_probs"]
        assert np.abs(batched[i] - alone).max() < 1e-5


@pytest.fixture(scope="module")
def sherpa_result(exported, clips, tmp_path_factory):
    import soundfile as sf

    wav = tmp_path_factory.mktemp("sherpa") / "clip.wav"
    sf.write(wav, clips[0], 16000, subtype="FLOAT")
    # sherpa-onnx ends the process on a metadata error, so it runs in its own process
    out = subprocess.run([sys.executable, "-m", "export.sherpa_check", str(exported["dir"]), str(wav)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sherpa_streaming_ctc_equals_our_greedy_decoding(exported, clips, sherpa_result):
    from export.sherpa_check import TAIL_SILENCE_S

    model = exported["model"]
    audio = np.concatenate([clips[0], np.zeros(int(TAIL_SILENCE_S * 16000), np.float32)])
    ours = stream(TorchStep(model), audio)["ctc_log_probs"]
    # sherpa decodes whole 32-frame windows of the Kaldi frames it has after input_finished()
    windows = ((len(audio) + 80) // 160) // model.config.chunk_fbank_frames
    ours_tokens = [TOKENS[i] for i in ctc_greedy(ours[:windows * model.config.chunk_frames])]
    assert len(ours_tokens) > 3  # a real sequence, not a vacuous match
    # sherpa-onnx shows the BPE word marker "▁" as a space
    assert sherpa_result["tokens"] == [t.replace("▁", " ") for t in ours_tokens]


def test_sherpa_runs_the_int8_asr_flavour_close_to_fp32(exported, clips, sherpa_result, tmp_path):
    import soundfile as sf

    from mt2kd_edge.model_layout import SHERPA

    d = exported["dir"] / SHERPA
    assert (d / "asr.int8.onnx").stat().st_size < 0.8 * (d / "asr.onnx").stat().st_size  # the tiny model: convs stay float
    sf.write(tmp_path / "clip.wav", clips[0], 16000, subtype="FLOAT")
    out = subprocess.run([sys.executable, "-m", "export.sherpa_check", str(exported["dir"]), str(tmp_path / "clip.wav"),
                          "int8"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    int8, fp32 = json.loads(out.stdout.strip().splitlines()[-1])["tokens"], sherpa_result["tokens"]
    import difflib

    assert difflib.SequenceMatcher(a=int8, b=fp32).ratio() >= 0.8, (int8, fp32)


def test_sherpa_speaker_embedding_matches_ours(exported, clips, sherpa_result):
    model = exported["model"]
    with torch.no_grad():
        ours = model(torch.from_numpy(clips[0])[None]).speaker_embedding[0].numpy()
    assert cosine(np.array(sherpa_result["speaker_embedding"]), ours) >= 0.99


def test_sherpa_tagging_top_tag_matches_ours(exported, clips, sherpa_result):
    model = exported["model"]
    with torch.no_grad():
        out = model(torch.from_numpy(clips[0])[None])
    clip_logits = (out.tag_logits[0] * out.frame_mask[0, :, None]).sum(0) / out.frame_mask[0].sum()
    top = int(clip_logits.argmax())
    assert sherpa_result["tags"][0]["index"] == top
    assert sherpa_result["tags"][0]["name"] == LABELS[top][1]


def test_bad_model_files_give_errors_naming_the_file(exported, tmp_path):
    d = exported["dir"]
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes((d / "model.fp32.onnx").read_bytes()[:5000])
    garbage = tmp_path / "garbage.pte"
    garbage.write_bytes(b"\x00not a program" * 50)
    bare = tmp_path / "bare.onnx"
    proto = onnx.load(str(d / "model.fp32.onnx"))
    del proto.metadata_props[:]
    bare.write_bytes(proto.SerializeToString())
    future = tmp_path / "model.json"
    meta = json.loads((d / "model.json").read_text())
    future.write_text(json.dumps({**meta, "format_version": 99}))
    cases = [(truncated, "not a loadable ONNX model"), (garbage, "not a loadable ExecuTorch program"),
             (bare, "has no 'mt2kd_metadata' metadata"), (future, "format version 99"),
             (tmp_path / "missing.pte", "not found")]
    for path, message in cases:
        with pytest.raises(ModelFileError, match=message) as err:
            read_model_metadata(path)
        assert str(path) in str(err.value)


def test_failed_export_leaves_the_previous_directory_intact(exported, tmp_path, monkeypatch):
    out = tmp_path / "model"
    md.export_checkpoint(exported["ckpt"], out, md.ExportOptions(forms=("onnx-fp32",), log=lambda *_: None))
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash during int8 quantization")

    monkeypatch.setattr(md.onnx_native, "quantize_int8", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        md.export_checkpoint(exported["ckpt"], out, md.ExportOptions(forms=("onnx-fp32", "onnx-int8"),
                                                                     log=lambda *_: None))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_export_cli_reports_bad_checkpoints_and_forms(exported, tmp_path):
    raw = dict(exported["raw"])
    raw["version"] = 7
    old = tmp_path / "old.pt"
    torch.save(raw, old)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "export", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=300)

    out = cli(str(old), "--out", str(tmp_path / "m"))
    assert out.returncode == 2 and "old.pt: checkpoint version 7 is not supported" in out.stderr
    out = cli(str(exported["ckpt"]), "--out", str(tmp_path / "m"), "--forms", "onnx-fp32,tflite")
    assert out.returncode == 2 and "unknown export forms ['tflite']" in out.stderr
    assert not (tmp_path / "m").exists()


# ---- the bundle that ships under models/default: int8 models, reports, demo clip and enrollments ----

def test_bundle_ships_int8_models_reports_and_an_enrolled_demo(tiny_export, ci_corpus, tmp_path):
    from mt2kd_edge.model_layout import SHIPPED
    from train.bundle import bundle
    from mt2kd_edge.engine import Engine

    report = tmp_path / "eval.json"
    report.write_text('{"wer": 0.5}\n')
    out = tmp_path / "default"
    # the two held-out speakers with the most short utterances (the transcript check decides who is kept)
    from collections import Counter

    import lhotse

    test = lhotse.CutSet.from_file(ci_corpus / "manifests" / "speech_cuts_test.jsonl.gz")
    counts = Counter(c.supervisions[0].speaker for c in test if c.duration <= 5.0)
    (first, _), (second, _) = counts.most_common(2)
    manifest = bundle(tiny_export["dir"], out, [report], ci_corpus, speakers={"adam": first, "victor": second},
                      turns=("adam", "victor"), enroll_per_speaker=1)
    files = set(manifest["files"])
    assert set(SHIPPED) | {"eval.json", "demo/clip.wav", "demo/demo.json", "demo/speakers.json"} <= files
    assert not any(name.endswith((".fp32.onnx", ".fp32.pte")) for name in files)
    # of the sherpa-onnx flavours, the int8 ASR and its tokens, which an unmodified sherpa-onnx runs
    assert {n for n in files if n.startswith("sherpa/")} == {"sherpa/asr.int8.onnx", "sherpa/tokens.txt"}
    done = subprocess.run([sys.executable, "-m", "export.sherpa_check", str(out), str(out / "demo" / "clip.wav"), "int8"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "tokens" in json.loads(done.stdout.strip().splitlines()[-1]), done.stderr[-2000:]
    info = json.loads((out / "demo" / "demo.json").read_text())
    assert [t["speaker"] for t in info["turns"]] == ["adam", "victor"] and info["events"]
    in_clip = {t["cut"] for t in info["turns"]}
    enrolled = {e["cut"] for entries in info["enroll"].values() for e in entries}
    assert len(enrolled) == 2 and not enrolled & in_clip  # enrolled from recordings that are not in the clip
    engine = Engine.from_dir(out, backend="executorch", speakers=out / "demo" / "speakers.json")
    assert sorted(engine.speakers.names()) == ["adam", "victor"]
    # the CLI runs the bundle on its own demo clip
    done = subprocess.run([str(Path(sys.executable).parent / "mt2kd-edge"), "run", "--model", str(out), "--speakers",
                           str(out / "demo" / "speakers.json"), "--jsonl", str(out / "demo" / "clip.wav")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert any(json.loads(line)["type"] == "final" for line in done.stdout.splitlines())


def test_bundle_refuses_an_export_without_int8_forms(tiny_export, tmp_path):
    from train.bundle import main

    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("model.json", "tokens.txt", "labels.csv", "model.int8.onnx"):
        (partial / name).write_bytes((tiny_export["dir"] / name).read_bytes())
    assert main([str(partial), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
