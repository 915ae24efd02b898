"""The `mt2kd-edge` command.

Today it has the commands the foundation supports; `run`, `live`, `enroll`, `bench` and
`export` arrive with the runtime and the exporters. Errors print as one line, not a traceback.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, core_version

EPILOG = """examples:
  mt2kd-edge check                      stream 6 s of synthetic speech-like audio through the
                                        default-size (untrained) model and compare with a full pass
  mt2kd-edge check --audio clip.wav     the same on your own 16 kHz file
  mt2kd-edge check --checkpoint m.pt    the same with a trained checkpoint
  mt2kd-edge spec                       print the streaming contract (inputs, outputs, states)
"""


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SystemExit("error: this command needs torch: pip install 'mt2kd-edge[train]'") from None


def _load_model(args: argparse.Namespace):
    _need_torch()
    import torch

    from .model import ModelConfig, MT2KDModel, load_checkpoint

    if args.checkpoint:
        return load_checkpoint(args.checkpoint)[0], f"checkpoint {args.checkpoint}"
    torch.manual_seed(args.seed)
    config = ModelConfig(chunk_ms=args.chunk_ms) if args.chunk_ms else ModelConfig()
    return MT2KDModel(config).eval(), "default config, UNTRAINED random weights (outputs are not meaningful)"


def cmd_check(args: argparse.Namespace) -> int:
    import torch

    from .audio_io import read_mono_16k
    from .streaming_check import run_check
    from .synthetic import speech_like

    torch.set_num_threads(args.threads)
    model, what = _load_model(args)
    if args.audio:
        audio, source = read_mono_16k(args.audio), args.audio
    else:
        audio, source = speech_like(args.seconds), f"{args.seconds:g} s of synthetic speech-like audio"
    print(f"model: {what}\naudio: {source}\nthreads: {args.threads}\n")
    report = run_check(model, audio)
    print("\n".join(report.lines()))
    worst = max(report.max_abs_diff_ctc, report.max_abs_diff_tags, report.max_abs_diff_speaker)
    ok = worst < args.tolerance
    print(f"\n{'PASS' if ok else 'FAIL'}: streaming {'equals' if ok else 'differs from'} the full forward "
          f"(tolerance {args.tolerance:g})")
    return 0 if ok else 1


def cmd_spec(args: argparse.Namespace) -> int:
    model, what = _load_model(args)
    print(f"# {what}\n{model.streaming_spec().describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mt2kd-edge", description="Streaming ASR, audio tagging and speaker ID from one causal encoder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"mt2kd-edge {__version__} (core {core_version})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def model_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--checkpoint", metavar="PATH", help="a trained checkpoint (default: untrained default model)")
        sp.add_argument("--chunk-ms", type=int, metavar="MS", help="streaming chunk for the untrained model "
                        "(a multiple of 40; default 320)")
        sp.add_argument("--seed", type=int, default=0, help="weight seed of the untrained model")

    c = sub.add_parser("check", help="stream audio chunk by chunk and check it equals a full forward",
                       description=cmd_check.__doc__ or "Stream audio through the model chunk by chunk, "
                       "as a device would, time each step, and check the result equals one full causal forward.")
    model_args(c)
    c.add_argument("--audio", metavar="WAV", help="a 16 kHz audio file (default: synthetic speech-like audio)")
    c.add_argument("--seconds", type=float, default=6.0, help="length of the synthetic audio (default 6)")
    c.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as on a small device)")
    c.add_argument("--tolerance", type=float, default=1e-4, help="max allowed |difference| (default 1e-4)")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("spec", help="print the streaming contract: input, outputs and state tensors")
    model_args(s)
    s.set_defaults(func=cmd_spec)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as e:  # includes CheckpointError
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
