"""The student evaluation scores through the runtime: its hypotheses are what `mt2kd-edge run` prints, and a
checkpoint scores what its fp32 export scores (both stepped under the same Engine)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mt2kd_edge import cli
from mt2kd_edge.engine import Engine
from mt2kd_edge.synthetic import speech_like
from train.data.layout import TRIALS, manifest_path
from train.evaluation import students

from conftest import LABELS

SPEAKERS = 2
FAMILY_OF = ("neural", "neural", "recorded", "formant")  # the voice family of each test utterance


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Held-out sets in the corpus layout, from synthetic audio: speech (two bursts and a pause, so endpointing
    has something to cut), event clips with labels, speaker trials."""
    from lhotse import CutSet, MonoCut, Recording, SupervisionSegment

    root = tmp_path_factory.mktemp("eval_corpus")
    (root / "audio").mkdir()

    def cut(name: str, audio: np.ndarray, **supervision):
        sf.write(root / "audio" / f"{name}.wav", audio, 16000, subtype="FLOAT")
        rec = Recording.from_file(root / "audio" / f"{name}.wav", recording_id=name)
        sup = SupervisionSegment(id=name, recording_id=name, start=0.0, duration=rec.duration, channel=0, **supervision)
        return MonoCut(id=name, start=0.0, duration=rec.duration, channel=0, recording=rec, supervisions=[sup])

    pause = np.zeros(2 * 16000, np.float32)
    speech = [cut(f"utt{i}", np.concatenate([speech_like(1.53 + 0.3 * i, seed=i), pause, speech_like(1.21, seed=50 + i)]),
                  text="the cat is on the mat", speaker=f"spk{i % SPEAKERS}", custom={"family": FAMILY_OF[i]})
              for i in range(4)]
    recorded_people = [cut(f"real{i}", speech_like(1.7 + 0.4 * i, seed=200 + i), text="go north",
                           custom={"source": f"package-{i}"}) for i in range(2)]
    events = [cut(f"ev{i}", 0.3 * speech_like(1.03 + 0.5 * i, seed=100 + i), custom={"labels": [LABELS[i % 5][1]]})
              for i in range(5)]
    for kind, split, cuts in (("speech", "test", speech), ("events", "test", events), ("speech", "realdev", recorded_people)):
        manifest_path(root, kind, split).parent.mkdir(parents=True, exist_ok=True)
        CutSet.from_cuts(cuts).to_file(manifest_path(root, kind, split))
    (root / TRIALS).write_text("1 utt0 utt2\n0 utt0 utt1\n1 utt1 utt3\n0 utt2 utt3\n")
    return root


def evaluation(capsys, *args: str) -> dict:
    import torch

    threads = torch.get_num_threads()  # a checkpoint's evaluation sets one thread for the process
    capsys.readouterr()
    try:
        assert students.main(list(args)) == 0, capsys.readouterr().err
    finally:
        torch.set_num_threads(threads)
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("backend", ["onnx", "executorch"])
def test_the_hypotheses_are_what_run_prints(tiny_export, corpus, capsys, tmp_path, backend):
    report = evaluation(capsys, "--model", str(tiny_export["dir"]), "--backend", backend, "--precision", "int8",
                        "--tasks", "asr", "--corpus", str(corpus))
    assert report["decoding"]["mode"] == "greedy" and report["decoding"]["beam_size"] == 1
    assert report["decoding"]["lm"] is None and report["utterances"] == 4
    hyps = {e["id"]: e["hyp"] for e in report["examples"]}
    assert any(hyps.values())  # not a vacuous match
    wavs = [str(corpus / "audio" / f"{name}.wav") for name in hyps]
    assert cli.main(["run", "--model", str(tiny_export["dir"]), "--backend", backend, "--precision", "int8",
                     "--beam-size", "1", "--no-lm", "--speakers", str(tmp_path / "none.json"), "--jsonl", *wavs]) == 0
    printed = {name: [] for name in hyps}
    for line in capsys.readouterr().out.splitlines():
        event = json.loads(line)
        if event["type"] == "final":
            printed[Path(event["file"]).stem].append(event["text"])
    assert {name: " ".join(texts) for name, texts in printed.items()} == hyps
    # the same hypotheses, scored per voice family, over the natural families, and on the recorded people
    refs = ["the cat is on the mat"] * 4
    by_hyp = [hyps[f"utt{i}"] for i in range(4)]
    wer = students.metrics.word_error_rate
    assert report["wer_by_family"] == {"neural": wer(refs[:2], by_hyp[:2]), "recorded": wer(refs[2:3], by_hyp[2:3]),
                                       "formant": wer(refs[3:], by_hyp[3:])}
    assert report["wer_natural"] == wer(refs[:3], by_hyp[:3])
    assert report["realdev_utterances"] == 2 and [e["id"] for e in report["realdev_examples"]] == ["real0", "real1"]
    assert report["realdev_wer"] == wer(["go north"] * 2, [e["hyp"] for e in report["realdev_examples"]])
    assert report["realdev_wer_by_source"] == {f"package-{i}": wer(["go north"], [report["realdev_examples"][i]["hyp"]])
                                               for i in range(2)}
    edits = report["realdev_errors"]
    assert edits["ref_words"] == 4
    assert (edits["substitutions"] + edits["deletions"] + edits["insertions"]) / 4 == pytest.approx(report["realdev_wer"])


def test_a_checkpoint_scores_what_its_fp32_export_scores(tiny_export, corpus, capsys):
    exported = evaluation(capsys, "--model", str(tiny_export["dir"]), "--precision", "fp32", "--corpus", str(corpus))
    assert exported["model"].endswith("model.fp32.onnx") and exported["trials"] == 4 and exported["event_clips"] == 5
    for stepper in ("onnx", "torch"):
        ckpt = evaluation(capsys, "--checkpoint", str(tiny_export["ckpt"]), "--stepper", stepper, "--corpus", str(corpus))
        assert ckpt["examples"] == exported["examples"] and ckpt["wer"] == exported["wer"], stepper
        assert abs(ckpt["map"] - exported["map"]) < 1e-4 and abs(ckpt["eer"] - exported["eer"]) < 1e-6, stepper
    # a checkpoint has no model.json to take a beam and an LM from
    assert students.main(["--checkpoint", str(tiny_export["ckpt"]), "--decoding", "model", "--corpus", str(corpus)]) == 2
    assert "--decoding model" in capsys.readouterr().err


def test_clip_scores_are_the_mean_frame_probabilities_and_the_int8_report(tiny_export, corpus, capsys):
    from export.runners import TorchStep, stream

    engine = Engine.from_dir(tiny_export["dir"], backend="onnx", precision="fp32", beam_size=1, lm=None)
    clips = students.Runtime.around(engine, "fp32").clips
    audio = speech_like(2.5, seed=7)
    out = students.clip_outputs(clips, audio, 16000)
    ref = stream(TorchStep(tiny_export["model"]), audio)
    frames = -(-len(audio) // 640)
    assert np.abs(out["tag_scores"] - ref["tag_probs"][:frames].mean(0)).max() < 1e-4
    report = evaluation(capsys, "--model", str(tiny_export["dir"]), "--backend", "executorch", "--precision", "int8",
                        "--compare", "fp32", "--corpus", str(corpus))
    q = report["int8_vs_fp32"]
    assert q["clips"] == report["utterances"] + report["event_clips"] and q["min_embedding_cosine"] > 0.97
    assert report["reference"]["model"].endswith("model.fp32.pte") and 0 <= q["token_error_rate"] <= 1


def test_an_input_of_whole_chunks_still_ends_with_its_final(tiny_export):
    engine = Engine.from_dir(tiny_export["dir"], backend="onnx", precision="fp32", beam_size=1, lm=None)
    audio = speech_like(3.0, seed=3)
    audio = audio[:len(audio) // engine.chunk_samples * engine.chunk_samples]
    stream = engine.create_stream()
    stream.accept_waveform(16000, audio)
    stream.input_finished()
    engine.decode_all(stream)
    if not stream.transcript().text:
        pytest.skip("the random model heard nothing in this clip")
    assert [e.text for e in engine.events([audio]) if e.type == "final"]  # one padding chunk carries the end
