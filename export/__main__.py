"""python -m export CHECKPOINT --out DIR: export a checkpoint into a model directory."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .model_dir import ALL_FORMS, ExportOptions, export_checkpoint

EPILOG = f"""forms: {', '.join(ALL_FORMS)} (default: all)
  onnx-fp32 / onnx-int8   native streaming model for onnxruntime (int8: dynamic, QUInt8 weights)
  pte-fp32 / pte-int8     native streaming model for ExecuTorch + XNNPACK (int8: PT2E weights,
                          dynamic activations; --pte-int8 static calibrates them instead)
  sherpa                  sherpa-onnx flavours: streaming zipformer2-CTC, speaker embedding, tagging

example:
  python -m export exp/stage2/best.pt --out models/mine --calibration data/corpus/audio
"""


def main(argv: list[str] | None = None, prog: str = "python -m export") -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="an mt2kd-edge checkpoint (.pt)")
    p.add_argument("--out", type=Path, required=True, help="model directory to create or replace")
    p.add_argument("--forms", default=",".join(ALL_FORMS), help="comma-separated subset of the forms")
    p.add_argument("--calibration", type=Path, help="int8 calibration audio: a folder of 16 kHz files "
                   "or a lhotse manifest (default: synthetic speech-like audio)")
    p.add_argument("--calibration-files", type=int, default=32, help="how many files to calibrate on (default 32)")
    p.add_argument("--pte-int8", choices=("dynamic", "static"), default="dynamic",
                   help="ExecuTorch int8 activations: dynamic (default, keeps fp32 quality) or static (calibrated)")
    args = p.parse_args(argv)
    # torch.export / torchao emit pages of deprecation notices that say nothing about the export
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    opts = ExportOptions(forms=tuple(f for f in args.forms.split(",") if f), calibration=args.calibration,
                         calibration_files=args.calibration_files, pte_int8_scheme=args.pte_int8)
    try:
        print(f"exporting {args.checkpoint} -> {args.out}")
        manifest = export_checkpoint(args.checkpoint, args.out, opts)
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for name, info in manifest["files"].items():
        print(f"  {info['bytes'] / 1e6:9.3f} MB  {name}")
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in opts.timings_s.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
