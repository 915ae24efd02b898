"""Package an exported model directory as a small, self-contained bundle (what ships under models/default):
the int8 ONNX and int8 ExecuTorch models with their metadata, the int8 sherpa-onnx ASR flavour (where the export
has it), the evaluation reports, and demo material
(a two-speaker clip over sound events, with the speakers enrolled by the bundled model itself), and the
word LM the model decodes with by default (``--lm``, built by ``python -m train.lm build``), and the student's
weights for further training (``--weights``: fp16, no optimizer state, with the BPE model beside them).

    python -m train.bundle build/model-default --out models/default \\
        --report build/model-default/evaluation_int8_onnx.json --demo-corpus data/corpus-default \\
        --lm build/model-default/lm.bin --weights exp/session/multitask/best.pt

The bundle is built beside ``--out`` and swapped in by rename, so it appears complete or not at all.
It is a recipe step, not an exporter's: the demo material comes from a built corpus (``train.data.demo``) and
the LM from ``train.lm``, and ``export/`` may not import ``train/``. What it copies is named in
``mt2kd_edge.model_layout``; the directory swap and manifest are the exporter's (``export.model_dir``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from export.model_dir import build_directory, write_manifest
from mt2kd_edge import model_layout as layout
from mt2kd_edge.model_layout import SHIPPED, SHIPPED_SHERPA

# What ``--weights`` adds (layout.WEIGHTS, layout.BPE): the student for fine-tuning (``--set
# init_from=models/default/student.pt``) and the tokenizer its CTC head was trained with (copied into a run
# that starts from it, so the vocabulary is kept).


def bundle(source: Path, out: Path, reports: list[Path], demo_corpus: Path | None, lm: Path | None = None,
           weights: Path | None = None, **demo_options) -> dict:
    """``demo_options`` go to train.data.demo.build (speakers, turns, enroll_per_speaker). ``lm``: a word
    LM to ship as lm.bin, named in model.json's decoding section with the default weights of train.lm."""
    missing = [name for name in SHIPPED if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source}: missing {', '.join(missing)} (export with --forms onnx-int8,pte-int8)")

    def fill(staging: Path) -> dict:
        for name in SHIPPED:
            shutil.copy2(source / name, staging / name)
        for name in SHIPPED_SHERPA if all((source / n).is_file() for n in SHIPPED_SHERPA) else ():
            (staging / name).parent.mkdir(exist_ok=True)
            shutil.copy2(source / name, staging / name)
        for report in reports:
            shutil.copy2(report, staging / report.name)
        if lm is not None:
            from .lm import install_lm

            install_lm(staging, lm)
        if weights is not None:
            ship_weights(weights, staging)
        if demo_corpus:
            make_demo(staging, demo_corpus, **demo_options)
        return write_manifest(staging, json.loads((staging / layout.MODEL_JSON).read_text()))

    return build_directory(out, fill)


def ship_weights(checkpoint: Path, model_dir: Path) -> None:
    """The checkpoint's model weights in fp16 (half the bytes; fine-tuning loads them into fp32 parameters)
    without its optimizer state, and the BPE model from its run directory."""
    import torch

    from mt2kd_edge.model.checkpoint import read_checkpoint
    from mt2kd_edge.fileio import atomic_write

    bpe = checkpoint.parent / layout.BPE
    if not bpe.is_file():
        raise FileNotFoundError(f"{bpe}: the BPE model of {checkpoint}'s run is missing")
    payload = read_checkpoint(checkpoint)
    payload["model"] = {k: v.half() if v.is_floating_point() else v for k, v in payload["model"].items()}
    payload["extra"] = {"step": payload.get("extra", {}).get("step"), "source": checkpoint.name}
    with atomic_write(model_dir / layout.WEIGHTS) as f:
        torch.save(payload, f)
    shutil.copy2(bpe, model_dir / layout.BPE)


def make_demo(model_dir: Path, corpus: Path, **options) -> None:
    """Demo clip + enrollments; each speaker is enrolled from utterances that are not in the clip."""
    from mt2kd_edge.engine import Engine
    from mt2kd_edge.audio_io import read_audio
    from .data.demo import build

    demo = model_dir / layout.DEMO
    info = build(corpus, demo, **options)
    engine = Engine.from_dir(model_dir, backend="onnx")  # both int8 forms agree to cosine >= 0.9998
    for name, files in info["enroll"].items():
        for entry in files:
            samples, rate = read_audio(demo / entry["file"])
            engine.speakers.enroll(name, engine.embed(samples, rate))
    engine.speakers.save(demo / layout.DEMO_SPEAKERS)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.bundle", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, help="an exported model directory (python -m export)")
    p.add_argument("--out", type=Path, required=True, help="bundle directory to create or replace")
    p.add_argument("--report", type=Path, action="append", default=[], help="a report file to ship beside the model")
    p.add_argument("--demo-corpus", type=Path, help="a built corpus to draw the demo clip and enrollments from")
    p.add_argument("--lm", type=Path, help="a word LM (python -m train.lm build) the bundle decodes with by default")
    p.add_argument("--weights", type=Path, help="the training checkpoint the export came from: shipped as "
                   f"{layout.WEIGHTS} (fp16) + {layout.BPE}, so training can continue from the bundle")
    args = p.parse_args(argv)
    try:
        manifest = bundle(args.source, args.out, args.report, args.demo_corpus, args.lm, args.weights)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    total = sum(f["bytes"] for f in manifest["files"].values())
    for name, f in manifest["files"].items():
        print(f"{f['bytes'] / 1e6:8.2f} MB  {name}")
    print(f"{total / 1e6:8.2f} MB  in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
