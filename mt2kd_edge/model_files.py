"""Reading an exported model's self-description, with errors that name the file (no torch).

Every exported ONNX file carries the metadata JSON under the key ``mt2kd_metadata``; every
``.pte`` carries it as a constant method of that name. The model directory also has it as
``model.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model_layout import MODEL_JSON
from .spec import StreamingSpec

MODEL_FORMAT = "mt2kd-edge-model"
MODEL_FORMAT_VERSION = 1
METADATA_KEY = "mt2kd_metadata"  # ONNX metadata key and .pte constant-method name


def default_model_dir() -> Path:
    """The bundled default model: ``$MT2KD_MODEL`` if set, else ``models/default`` beside the package."""
    import os

    return Path(os.environ.get("MT2KD_MODEL") or Path(__file__).resolve().parents[1] / "models" / "default")


class ModelFileError(ValueError):
    """An exported model file is missing, corrupt, foreign or of an unsupported version."""


def validate_metadata(meta: Any, where: str) -> dict[str, Any]:
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{where}: not an mt2kd-edge model (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{where}: model format version {meta.get('format_version')} is not supported "
                             f"(this build reads version {MODEL_FORMAT_VERSION})")
    try:
        StreamingSpec.from_dict(meta["streaming_spec"])
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{where}: invalid streaming spec in metadata: {e}") from None
    return meta


def to_json(metadata: dict[str, Any]) -> str:
    """The canonical serialisation (what the exporters embed)."""
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"))


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return validate_metadata(json.loads(text), where)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{where}: metadata is not valid JSON ({e})") from None


def open_onnx_session(path: Path, threads: int = 1):
    """An onnxruntime session of ``path`` on the CPU, ``threads`` intra-op threads (ModelFileError if unloadable)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types for bad files
        raise ModelFileError(f"{path}: not a loadable ONNX model ({type(e).__name__}: {e})") from None


def read_onnx_metadata(path: Path, session=None) -> dict[str, Any]:
    """From ``session`` when the caller has one open (so the file is read once), else from a session opened here."""
    session = session if session is not None else open_onnx_session(path)
    meta = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in meta:
        raise ModelFileError(f"{path}: ONNX file has no '{METADATA_KEY}' metadata (not exported by mt2kd-edge?)")
    return _parse(meta[METADATA_KEY], str(path))


def read_pte_metadata(path: Path, program=None) -> dict[str, Any]:
    """From ``program`` (executorch.runtime's) when the caller has it loaded, else from one loaded here."""
    if program is None:
        try:
            from executorch.runtime import Runtime
        except ImportError:
            raise ModelFileError(f"{path}: reading .pte files in Python needs the executorch package") from None
        try:
            program = Runtime.get().load_program(str(path))
        except Exception as e:
            raise ModelFileError(f"{path}: not a loadable ExecuTorch program ({type(e).__name__}: {e})") from None
    if METADATA_KEY not in program.method_names:
        raise ModelFileError(f"{path}: program has no '{METADATA_KEY}' method (not exported by mt2kd-edge?)")
    (text,) = program.load_method(METADATA_KEY).execute([])
    return _parse(text, str(path))


def read_model_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of a ``.onnx``, ``.pte`` or ``model.json`` file, validated."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found")
    if path.suffix == ".onnx":
        return read_onnx_metadata(path)
    if path.suffix == ".pte":
        return read_pte_metadata(path)
    if path.suffix == ".json":
        return _parse(path.read_text(), str(path))
    raise ModelFileError(f"{path}: unknown model file type (expected .onnx, .pte or model.json)")


DECODING_KEY = "decoding"  # model.json: the decoding a model is meant to run with (beam, LM, weights)
_DECODING_FIELDS = {"beam_size": int, "lm": str, "lm_weight": float, "word_bonus": float, "oov_penalty": float}


def read_decoding_defaults(model_dir: str | Path) -> dict[str, Any]:
    """The ``decoding`` section of ``model_dir/model.json`` (empty if there is none): beam_size,
    lm (a file name inside the model directory, returned as a full path), lm_weight, word_bonus,
    oov_penalty.
    A section of the wrong shape raises ModelFileError naming model.json."""
    path = Path(model_dir) / MODEL_JSON
    if not path.is_file():
        return {}
    try:
        section = json.loads(path.read_text()).get(DECODING_KEY, {})
    except (OSError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if not isinstance(section, dict):
        raise ModelFileError(f"{path}: '{DECODING_KEY}' must be an object, got {type(section).__name__}")
    out: dict[str, Any] = {}
    for key, value in section.items():
        kind = _DECODING_FIELDS.get(key)
        if kind is None:
            continue  # informational keys (how the LM was built) are kept in the file, not used here
        ok = isinstance(value, kind) and not isinstance(value, bool) or (kind is float and isinstance(value, int)
                                                                          and not isinstance(value, bool))
        if not ok:
            raise ModelFileError(f"{path}: {DECODING_KEY}.{key} must be {kind.__name__}, got {value!r}")
        out[key] = float(value) if kind is float else value
    if "lm" in out:
        name = out["lm"]
        if not name or Path(name).is_absolute() or ".." in Path(name).parts:
            raise ModelFileError(f"{path}: {DECODING_KEY}.lm must name a file inside the model directory, got {name!r}")
        out["lm"] = str(Path(model_dir) / name)
    return out
