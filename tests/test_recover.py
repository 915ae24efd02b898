"""train.recover: a trainable checkpoint back from an exported bundle's int8 ONNX and tokens."""

from __future__ import annotations

import json

import pytest
import torch

from mt2kd_edge.model import load_checkpoint

# a train_bpe-shaped vocabulary (blank, <unk>, pieces) of the tiny model's size
BPE_TOKENS = ["<blk>", "<unk>", "▁the", "▁a", "▁cat", "s", "t", "e", "▁on", "n", "r", "▁is", "o", "d", "▁mat", "i"]


@pytest.fixture(scope="module")
def bpe_export(tmp_path_factory):
    from export import model_dir as md
    from mt2kd_edge.model import save_checkpoint

    from conftest import LABELS, make_tiny_checkpoint

    tmp = tmp_path_factory.mktemp("recover")
    model, _ = load_checkpoint(make_tiny_checkpoint(tmp / "tiny.pt"))
    ckpt = save_checkpoint(tmp / "bpe.pt", model, tokens=BPE_TOKENS, labels=LABELS)
    md.export_checkpoint(ckpt, tmp / "model", md.ExportOptions(forms=("onnx-int8",), log=lambda *_: None))
    return {"dir": tmp / "model", "model": model}


def test_weights_come_back_from_the_int8_graph_within_a_quantization_step(bpe_export, tmp_path):
    from train.recover import main

    assert main([str(bpe_export["dir"]), "--out", str(tmp_path / "r" / "student.pt")]) == 0
    recovered, extra = load_checkpoint(tmp_path / "r" / "student.pt")
    assert extra["recovered_from"] == str(bpe_export["dir"])
    original = bpe_export["model"].state_dict()
    compared = 0
    for name, value in recovered.state_dict().items():
        if name.startswith("distill."):
            continue  # the stage-1 heads are not in the step graph
        ref = original[name]
        if not ref.is_floating_point():
            continue
        step = float(ref.abs().max()) / 127 * 2 + 1e-6  # per-tensor int8: within a step of the original
        assert torch.allclose(value, ref, atol=step), name
        compared += 1
    assert compared > 20


def test_the_rebuilt_bpe_model_has_the_bundles_pieces(bpe_export, tmp_path):
    from train.recover import recover
    from train.tokenizer import Tokenizer

    report = recover(bpe_export["dir"], tmp_path / "student.pt")
    tokens = json.loads((bpe_export["dir"] / "model.json").read_text())["tokens"]
    assert Tokenizer(tmp_path / "bpe.model").tokens() == tokens
    assert report["not_in_graph"] == sorted(k for k in report["not_in_graph"] if k.startswith("distill."))


def test_a_vocabulary_that_is_not_bpe_is_refused(tiny_export, tmp_path, capsys):
    from train.recover import main

    assert main([str(tiny_export["dir"]), "--out", str(tmp_path / "x.pt")]) == 2
    assert "no BPE model can be rebuilt" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()


def test_a_directory_without_the_int8_graph_is_a_one_line_error(bpe_export, tmp_path, capsys):
    from train.recover import main

    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "model.json").write_bytes((bpe_export["dir"] / "model.json").read_bytes())
    assert main([str(partial), "--out", str(tmp_path / "x.pt")]) == 2
    assert "model.int8.onnx" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()
