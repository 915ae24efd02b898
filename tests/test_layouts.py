"""The file names of a model directory and of a corpus, and labels.csv, each defined in one module."""

from __future__ import annotations

from mt2kd_edge import model_layout as layout
from mt2kd_edge.labels_csv import read_labels_csv, write_labels_csv


def test_model_files_are_named_as_existing_model_directories_name_them():
    assert layout.BACKEND_FILES == {"executorch": ("model.int8.pte", "model.fp32.pte"),
                                    "onnx": ("model.int8.onnx", "model.fp32.onnx")}
    assert layout.SHIPPED == ("model.json", "tokens.txt", "labels.csv", "model.int8.onnx", "model.int8.pte")


def test_corpus_manifests_keep_their_names():
    from train.data.layout import POOL_CUTS, manifest_name, manifest_path

    assert manifest_name("speech", "train") == "speech_cuts_train.jsonl.gz"
    assert manifest_name("events", "test", "recordings") == "events_recordings_test.jsonl.gz"
    assert POOL_CUTS == "pool_cuts_train.jsonl.gz"
    assert str(manifest_path("c", "speech", "dev")) == "c/manifests/speech_cuts_dev.jsonl.gz"


def test_labels_csv_round_trips_names_with_commas(tmp_path):
    labels = [("/m/09x0r", "Speech"), ("/m/x", "Sword, blade")]
    write_labels_csv(tmp_path / "labels.csv", labels)
    assert (tmp_path / "labels.csv").read_text() == 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/x,"Sword, blade"\n'
    assert read_labels_csv(tmp_path / "labels.csv") == labels
