"""Package an exported model directory as a small, self-contained bundle (what ships under models/default):
the int8 ONNX and int8 ExecuTorch models with their metadata, the evaluation reports, and demo material
(a two-speaker clip over sound events, with the speakers enrolled by the bundled model itself).

    python -m export.bundle build/model-default --out models/default \\
        --report build/model-default/evaluation_int8_onnx.json --demo-corpus data/corpus-default

The bundle is built beside ``--out`` and swapped in by rename, so it appears complete or not at all.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .model_dir import build_directory, write_manifest

SHIPPED = ("model.json", "tokens.txt", "labels.csv", "model.int8.onnx", "model.int8.pte")


def bundle(source: Path, out: Path, reports: list[Path], demo_corpus: Path | None, **demo_options) -> dict:
    """``demo_options`` go to train.data.demo.build (speakers, turns, enroll_per_speaker)."""
    missing = [name for name in SHIPPED if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source}: missing {', '.join(missing)} (export with --forms onnx-int8,pte-int8)")

    def fill(staging: Path) -> dict:
        for name in SHIPPED:
            shutil.copy2(source / name, staging / name)
        for report in reports:
            shutil.copy2(report, staging / report.name)
        if demo_corpus:
            make_demo(staging, demo_corpus, **demo_options)
        return write_manifest(staging, json.loads((staging / "model.json").read_text()))

    return build_directory(out, fill)


def make_demo(model_dir: Path, corpus: Path, **options) -> None:
    """Demo clip + enrollments; each speaker is enrolled from utterances that are not in the clip."""
    from mt2kd_edge.engine import Engine
    from mt2kd_edge.audio_io import read_audio
    from train.data.demo import build

    demo = model_dir / "demo"
    info = build(corpus, demo, **options)
    engine = Engine.from_dir(model_dir, backend="onnx")  # both int8 forms agree to cosine >= 0.9998
    for name, files in info["enroll"].items():
        for entry in files:
            samples, rate = read_audio(demo / entry["file"])
            engine.speakers.enroll(name, engine.embed(samples, rate))
    engine.speakers.save(demo / "speakers.json")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m export.bundle", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, help="an exported model directory (python -m export)")
    p.add_argument("--out", type=Path, required=True, help="bundle directory to create or replace")
    p.add_argument("--report", type=Path, action="append", default=[], help="a report file to ship beside the model")
    p.add_argument("--demo-corpus", type=Path, help="a built corpus to draw the demo clip and enrollments from")
    args = p.parse_args(argv)
    try:
        manifest = bundle(args.source, args.out, args.report, args.demo_corpus)
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
