"""Export a checkpoint into a model directory holding every form, atomically, with a manifest."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mt2kd_edge import model_layout as layout
from mt2kd_edge.fileio import atomic_write_text, sha256
from mt2kd_edge.labels_csv import write_labels_csv
from mt2kd_edge.model import MT2KDModel
from mt2kd_edge.model.checkpoint import load_checkpoint, read_checkpoint

from . import executorch_native, onnx_native, sherpa_flavours
from .calibration import calibration_clips
from .metadata import Vocabulary, build_metadata

MANIFEST = layout.MANIFEST
ALL_FORMS = ("onnx-fp32", "onnx-int8", "pte-fp32", "pte-int8", "sherpa")


@dataclass
class ExportOptions:
    forms: tuple[str, ...] = ALL_FORMS
    calibration: Path | None = None  # folder of audio or lhotse manifest; None: synthetic audio
    calibration_files: int = 32
    pte_int8_scheme: str = "dynamic"  # or "static" (calibrated activation scales; less accurate here)
    log: callable = print
    timings_s: dict[str, float] = field(default_factory=dict)


def tokens_txt(tokens: list[str]) -> str:
    return "".join(f"{t} {i}\n" for i, t in enumerate(tokens))


def write_manifest(root: Path, metadata: dict) -> dict:
    files = {str(p.relative_to(root)): {"bytes": p.stat().st_size, "sha256": sha256(p)}
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST}
    manifest = {"format": metadata["format"], "format_version": metadata["format_version"],
                "mt2kd_edge_version": metadata["mt2kd_edge_version"], "files": files}
    atomic_write_text(root / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


def _timed(opts: ExportOptions, name: str, fn, *args) -> object:
    t0 = time.perf_counter()
    opts.log(f"  {name} ...")
    result = fn(*args)
    opts.timings_s[name] = time.perf_counter() - t0
    return result


def _export_into(model: MT2KDModel, vocab: Vocabulary, out: Path, opts: ExportOptions) -> dict:
    common = build_metadata(model, vocab)
    atomic_write_text(out / layout.MODEL_JSON, json.dumps(common, indent=2) + "\n")
    atomic_write_text(out / layout.TOKENS, tokens_txt(vocab.tokens))
    write_labels_csv(out / layout.LABELS, vocab.labels)
    forms = set(opts.forms)
    if forms & {"onnx-fp32", "onnx-int8"}:
        fp32 = out / layout.model_file("onnx", "fp32")
        _timed(opts, "onnx-fp32", onnx_native.export_fp32, model, fp32,
               build_metadata(model, vocab, backend="onnx", precision="fp32"))
        if "onnx-int8" in forms:
            _timed(opts, "onnx-int8", onnx_native.quantize_int8, fp32, out / layout.model_file("onnx", "int8"),
                   build_metadata(model, vocab, backend="onnx", precision="int8",
                                  quantization="onnxruntime dynamic, QUInt8 weights, reduce_range"))
        if "onnx-fp32" not in forms:
            fp32.unlink()
    if "pte-fp32" in forms:
        _timed(opts, "pte-fp32", executorch_native.export_fp32, model, out / layout.model_file("executorch", "fp32"),
               build_metadata(model, vocab, backend="executorch", precision="fp32"))
    if "pte-int8" in forms:
        clips, described = calibration_clips(opts.calibration, opts.calibration_files)
        activations = ("dynamic int8 activations" if opts.pte_int8_scheme == "dynamic"
                       else f"static int8 activations calibrated on {described}")
        meta = build_metadata(model, vocab, backend="executorch", precision="int8",
                              quantization=f"PT2E XNNPACKQuantizer per-channel symmetric weights, {activations}")
        _timed(opts, "pte-int8", executorch_native.export_int8, model, out / layout.model_file("executorch", "int8"), meta, clips,
               opts.pte_int8_scheme)
    if "sherpa" in forms:
        sherpa = out / layout.SHERPA
        sherpa.mkdir(exist_ok=True)
        _timed(opts, "sherpa-asr", sherpa_flavours.export_streaming_ctc, model, sherpa / layout.SHERPA_ASR)
        _timed(opts, "sherpa-asr-int8", sherpa_flavours.quantize_streaming_ctc, sherpa / layout.SHERPA_ASR,
               sherpa / layout.SHERPA_ASR_INT8)
        _timed(opts, "sherpa-speaker", sherpa_flavours.export_speaker, model, sherpa / layout.SHERPA_SPEAKER)
        _timed(opts, "sherpa-tagging", sherpa_flavours.export_tagger, model, sherpa / layout.SHERPA_TAGGING)
        atomic_write_text(sherpa / layout.TOKENS, tokens_txt(vocab.tokens))
        write_labels_csv(sherpa / layout.LABELS, vocab.labels)
    return write_manifest(out, common)


def export_checkpoint(checkpoint: Path, out: Path, opts: ExportOptions | None = None) -> dict:
    """Export ``checkpoint`` into ``out``. The directory appears complete or not at all: it is
    built beside ``out`` and swapped in by rename; an existing ``out`` is replaced only on success."""
    opts = opts or ExportOptions()
    unknown = set(opts.forms) - set(ALL_FORMS)
    if unknown:
        raise ValueError(f"unknown export forms {sorted(unknown)}; choose from {ALL_FORMS}")
    model, _ = load_checkpoint(checkpoint)
    vocab = Vocabulary.from_checkpoint(read_checkpoint(checkpoint), model)
    if vocab.placeholder:
        opts.log("  note: the checkpoint carries no tokens/labels; writing placeholders")
    out = Path(out)
    torch.set_grad_enabled(False)
    try:
        return build_directory(out, lambda staging: _export_into(model, vocab, staging, opts))
    finally:
        torch.set_grad_enabled(True)


def build_directory(out: Path, fill) -> dict:
    """Run ``fill(staging)`` on a fresh directory beside ``out``, then swap it in by rename: ``out`` is
    complete or untouched (an existing one is replaced only on success). Returns what ``fill`` returns."""
    staging = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        result = fill(staging)
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        if out.exists():
            out.rename(old)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)
