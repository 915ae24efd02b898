"""Checkpoints rebuild the model from the stored config and fail clearly on bad files."""

from __future__ import annotations

import pytest
import torch

from mt2kd_edge.model import CheckpointError, MT2KDModel, load_checkpoint, save_checkpoint, tiny_config


@pytest.fixture
def model() -> MT2KDModel:
    torch.manual_seed(0)
    return MT2KDModel(tiny_config(d_model=48, num_layers=3)).eval()


def test_round_trip_reproduces_outputs_and_config(tmp_path, model):
    path = save_checkpoint(tmp_path / "ckpt" / "model.pt", model, extra={"step": 7})
    loaded, extra = load_checkpoint(path)
    assert loaded.config == model.config and loaded.config.d_model == 48
    assert extra == {"step": 7}
    audio = 0.1 * torch.randn(2, 7000)
    with torch.no_grad():
        a, b = model(audio), loaded(audio)
    assert torch.equal(a.ctc_log_probs, b.ctc_log_probs)
    assert torch.equal(a.speaker_embedding, b.speaker_embedding)
    assert loaded.streaming_spec() == model.streaming_spec()


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_file_names_the_file(tmp_path, model, damage):
    path = save_checkpoint(tmp_path / "model.pt", model)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00garbage" * 100)
    with pytest.raises(CheckpointError, match="model.pt"):
        load_checkpoint(path)


def test_foreign_and_future_checkpoints_are_refused(tmp_path, model):
    torch.save({"state_dict": model.state_dict()}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not an mt2kd-edge checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    path = save_checkpoint(tmp_path / "future.pt", model)
    payload = torch.load(path, weights_only=True)
    payload["version"] = 99
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(path)
    payload["version"] = 1
    payload["config"]["new_field_from_the_future"] = 1
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="new_field_from_the_future"):
        load_checkpoint(path)


def test_failed_save_leaves_previous_checkpoint_intact(tmp_path, model, monkeypatch):
    path = save_checkpoint(tmp_path / "model.pt", model, extra={"step": 1})
    before = path.read_bytes()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, extra={"step": 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary file left behind
