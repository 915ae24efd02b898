"""The files of a model directory, named once (no torch).

The exporter (``export/model_dir.py``) writes them, the bundler (``train/bundle.py``) ships a subset,
the runtime (``backends.py``, ``model_files.py``), the benchmarks and the LM installer look them up.
Nothing else spells a file name of a model directory, so a rename happens here or nowhere.
"""

from __future__ import annotations

MODEL_JSON = "model.json"  # the metadata document (each model file carries it too)
TOKENS = "tokens.txt"  # CTC units, "<token> <id>" a line (sherpa-onnx's format)
LABELS = "labels.csv"  # tag classes, sherpa-onnx's format (mt2kd_edge/labels_csv.py)
MANIFEST = "manifest.json"  # {"files": {name: {"bytes", "sha256"}}}, written last
LM = "lm.bin"  # the word LM that model.json's decoding section names (python -m train.lm install)
WEIGHTS = "student.pt"  # fp16 student weights to train on from (train.bundle --weights)
BPE = "bpe.model"  # the tokenizer those weights' CTC head was trained with (also in every run directory)

SHERPA = "sherpa"  # sub-folder with the sherpa-onnx flavours, their own tokens.txt and labels.csv
SHERPA_ASR, SHERPA_SPEAKER, SHERPA_TAGGING = "asr.onnx", "speaker.onnx", "tagging.onnx"
SHERPA_ASR_INT8 = "asr.int8.onnx"  # the streaming CTC flavour with dynamic int8 weights (what a bundle ships)
SHERPA_ASR_FILES = {"fp32": SHERPA_ASR, "int8": SHERPA_ASR_INT8}

DEMO = "demo"  # sub-folder with the demo material (train/data/demo.py, train.bundle)
DEMO_CLIP, DEMO_INFO, DEMO_SPEAKERS, DEMO_ENROLL = "clip.wav", "demo.json", "speakers.json", "enroll"

_EXTENSIONS = {"executorch": "pte", "onnx": "onnx"}
PRECISIONS = ("int8", "fp32")  # preferred first


def model_file(backend: str, precision: str) -> str:
    """The streaming model of one backend at one precision: ``model.int8.pte`` and the like."""
    if backend not in _EXTENSIONS or precision not in PRECISIONS:
        raise ValueError(f"no model file for backend {backend!r} at precision {precision!r}")
    return f"model.{precision}.{_EXTENSIONS[backend]}"


BACKEND_FILES = {b: tuple(model_file(b, p) for p in PRECISIONS) for b in _EXTENSIONS}  # preferred first
# what a bundle (models/default) ships of an export; reports, LM, weights and demo come on top
SHIPPED = (MODEL_JSON, TOKENS, LABELS, model_file("onnx", "int8"), model_file("executorch", "int8"))
# ... and, where the export has them, the int8 sherpa-onnx ASR flavour with its tokens (an unmodified sherpa-onnx runs it)
SHIPPED_SHERPA = (f"{SHERPA}/{SHERPA_ASR_INT8}", f"{SHERPA}/{TOKENS}")
