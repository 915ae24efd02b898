"""The `mt2kd-edge` command: run files through the streaming runtime, manage enrolled
speakers, soak-test, and check the torch model's streaming. Errors print as one line, not a
traceback. (`live`, `bench` and the bundled default model arrive with issue 8.)
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, core_version
from .model_files import default_model_dir

EPILOG = """examples:
  mt2kd-edge run clip.wav              stream a file through the bundled model: transcript, tags, speakers
  mt2kd-edge run --model DIR --jsonl a.wav b.wav      one JSON object per event
  mt2kd-edge enroll --model DIR alice a1.wav a2.wav   enroll a speaker (speakers.json by default)
  mt2kd-edge speakers list | remove NAME
  mt2kd-edge soak --model DIR --minutes 60            memory and per-chunk cost over an hour of audio
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


def _engine(args: argparse.Namespace, **overrides):
    from .engine import Engine

    return Engine.from_dir(args.model, backend=args.backend, precision=args.precision, threads=args.threads,
                           speakers=getattr(args, "speakers", None), **overrides)


def cmd_run(args: argparse.Namespace) -> int:
    import json

    from .audio_io import read_audio

    import sys

    engine = _engine(args, beam_size=args.beam_size)
    live = sys.stdout.isatty()  # partial lines redraw in place on a terminal only
    clear = "\r\033[K" if live else ""
    for path in args.files:
        samples, rate = read_audio(path)
        piece = max(1, rate * args.chunk_ms // 1000)
        chunks = (samples[i:i + piece] for i in range(0, len(samples), piece))
        if args.realtime:
            chunks = _paced(chunks, args.chunk_ms / 1000)
        if not args.jsonl:
            print(f"== {path} ({len(samples) / rate:.2f} s, {engine.backend_name})")
        for event in engine.events(chunks, sample_rate=rate):
            if args.jsonl:
                print(json.dumps({"file": str(path), **event.as_json()}), flush=True)
            elif event.type == "partial":
                if live:
                    print(f"{clear}  ... {event.text[-70:]}", end="", flush=True)
            elif event.type == "final":
                who = event.speaker or "unknown"
                print(f"{clear}[{event.start_s:7.2f} - {event.end_s:7.2f}] {who:>10}: {event.text}", flush=True)
            elif event.type == "tag":
                print(f"{clear}[{event.start_s:7.2f} - {event.end_s:7.2f}] {'tag':>10}: {event.label} ({event.score:.2f})")
            elif event.type == "speaker":
                who = f"{event.name} ({event.score:.2f})" if event.name else f"unknown (best {event.score:.2f})"
                print(f"{clear}[{event.start_s:7.2f} - {event.end_s:7.2f}] {'speaker':>10}: {who}", flush=True)
    return 0


def _paced(chunks, seconds_per_chunk: float):
    import time

    start = time.perf_counter()
    for i, chunk in enumerate(chunks):
        delay = start + i * seconds_per_chunk - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield chunk


def cmd_enroll(args: argparse.Namespace) -> int:
    from .audio_io import read_audio

    engine = _engine(args)
    for path in args.files:
        samples, rate = read_audio(path)
        engine.speakers.enroll(args.name, engine.embed(samples, rate))
    saved = engine.speakers.save(args.speakers)
    print(f"enrolled {args.name!r} from {len(args.files)} file(s): "
          f"{engine.speakers.num_utterances(args.name)} utterance(s) in {saved}")
    return 0


def cmd_speakers(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .speakers import SpeakerStore

    path = Path(args.speakers)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no speaker store yet (enroll someone first)")
    store = SpeakerStore.load(path)
    if args.action == "list":
        for name in store.names():
            print(f"{name}\t{store.num_utterances(name)} utterance(s)")
        if not len(store):
            print("(no speakers enrolled)")
    else:
        if not args.name:
            raise ValueError("speakers remove needs a NAME")
        store.remove(args.name)
        store.save()
        print(f"removed {args.name!r} from {path}")
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    from .live import NoInputDevice, input_devices, run_live

    try:
        if args.list_devices:
            devices = input_devices()
            for d in devices:
                print(f"{d['index']:3d}  {d['name']}  ({d['max_input_channels']} ch, {d['default_samplerate']:.0f} Hz)")
            if not devices:
                print("(no audio input devices)")
            return 0
        run_live(_engine(args), args.device, args.sample_rate, args.max_seconds, args.plain, args.jsonl)
    except NoInputDevice as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _need_torch()
    try:
        from export.__main__ import main as export_main
    except ImportError:
        raise SystemExit("error: `export` needs the source tree: run it from the mt2kd-edge repository root "
                         "(export/ is a recipe package, not part of the installed SDK)") from None
    argv = [args.checkpoint, "--out", args.out]
    if args.forms:
        argv += ["--forms", args.forms]
    if args.calibration:
        argv += ["--calibration", args.calibration]
    return export_main(argv)


def cmd_bench(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .bench import format_table, run_bench

    cores = tuple(int(c) for c in args.cores.split(","))
    single = tuple(Path(d) for d in args.single_task.split(",")) if args.single_task else ()
    result = run_bench(Path(args.model), Path(args.checkpoint) if args.checkpoint else None, args.seconds, cores, single)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


def cmd_soak(args: argparse.Namespace) -> int:
    import json

    from .soak import soak

    import sys

    engine = _engine(args)
    show = not args.json and sys.stdout.isatty()
    report = soak(engine, args.minutes * 60,
                  progress=(lambda m: print(f"\r\033[K  {m} min of audio", end="", flush=True)) if show else None)
    if show:
        print("\r\033[K", end="")
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"{report.audio_s / 60:.0f} min of audio through one {report.backend} stream in {report.wall_s:.1f} s "
              f"(RTF {report.real_time_factor:.4f}); {report.segments} segments")
        print(f"RSS after the first minute {report.rss_after_first_minute_mb:.1f} MB, at the end "
              f"{report.rss_end_mb:.1f} MB (growth {report.rss_growth_mb:+.1f} MB)")
        print(f"per chunk: model {report.model_ms_per_chunk:.3f} ms, runtime core {report.core_ms_per_chunk:.3f} ms")
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
                       description="Stream audio through the model chunk by chunk, as a device would, time "
                       "each step, and check the result equals one full causal forward.")
    model_args(c)
    c.add_argument("--audio", metavar="WAV", help="a 16 kHz audio file (default: synthetic speech-like audio)")
    c.add_argument("--seconds", type=float, default=6.0, help="length of the synthetic audio (default 6)")
    c.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as on a small device)")
    c.add_argument("--tolerance", type=float, default=1e-4, help="max allowed |difference| (default 1e-4)")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("spec", help="print the streaming contract: input, outputs and state tensors")
    model_args(s)
    s.set_defaults(func=cmd_spec)

    def runtime_args(sp: argparse.ArgumentParser, speakers: bool = True) -> None:
        sp.add_argument("--model", default=str(default_model_dir()), metavar="DIR",
                        help="an exported model directory (python -m export); default: the bundled model "
                             "(models/default, or $MT2KD_MODEL)")
        sp.add_argument("--backend", choices=("executorch", "onnx"), default="executorch",
                        help="executorch: native C++ (default); onnx: onnxruntime")
        sp.add_argument("--precision", choices=("int8", "fp32"), help="default: int8 when present")
        sp.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
        if speakers:
            sp.add_argument("--speakers", default="speakers.json", metavar="FILE",
                            help="speaker store to identify against / enroll into (default speakers.json)")

    r = sub.add_parser("run", help="stream audio files through the runtime and print what it hears")
    runtime_args(r)
    r.add_argument("files", nargs="+", metavar="FILE", help="audio files (any rate; resampled to the model's)")
    r.add_argument("--chunk-ms", type=int, default=100, help="size of the audio pieces fed in (default 100)")
    r.add_argument("--realtime", action="store_true", help="pace the input like a live source")
    r.add_argument("--jsonl", action="store_true", help="one JSON object per event instead of text")
    r.add_argument("--beam-size", type=int, default=1, help="CTC prefix beam size (1: greedy)")
    r.set_defaults(func=cmd_run)

    lv = sub.add_parser("live", help="listen to the microphone: live transcript, tags with bars, speaker")
    runtime_args(lv)
    lv.add_argument("--device", help="input device index or name (default: the system default)")
    lv.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    lv.add_argument("--sample-rate", type=int, help="capture rate in Hz (default: the device's; resampled)")
    lv.add_argument("--max-seconds", type=float, help="stop after this much audio (default: until Ctrl-C)")
    lv.add_argument("--plain", action="store_true", help="print events as lines instead of a live view")
    lv.add_argument("--jsonl", action="store_true", help="one JSON object per event")
    lv.set_defaults(func=cmd_live)

    e = sub.add_parser("enroll", help="enroll a speaker from one or more recordings")
    runtime_args(e)
    e.add_argument("name", help="the speaker's name")
    e.add_argument("files", nargs="+", metavar="FILE", help="recordings of that speaker alone")
    e.set_defaults(func=cmd_enroll)

    k = sub.add_parser("speakers", help="list or remove enrolled speakers")
    k.add_argument("action", choices=("list", "remove"))
    k.add_argument("name", nargs="?", help="the speaker to remove")
    k.add_argument("--speakers", default="speakers.json", metavar="FILE", help="speaker store (default speakers.json)")
    k.set_defaults(func=cmd_speakers)

    x = sub.add_parser("export", help="export a checkpoint to ONNX, ExecuTorch and sherpa-onnx forms (python -m export)")
    x.add_argument("checkpoint", help="an mt2kd-edge checkpoint (.pt)")
    x.add_argument("--out", required=True, help="model directory to create or replace")
    x.add_argument("--forms", help="comma-separated subset: onnx-fp32,onnx-int8,pte-fp32,pte-int8,sherpa")
    x.add_argument("--calibration", help="int8 calibration audio: a folder or a lhotse manifest")
    x.set_defaults(func=cmd_export)

    b = sub.add_parser("bench", help="latency, RTF, memory and sizes of every exported form, side by side")
    b.add_argument("--model", default=str(default_model_dir()), metavar="DIR",
                   help="an exported model directory (default: the bundled model)")
    b.add_argument("--checkpoint", metavar="PATH", help="also time torch eager on this checkpoint")
    b.add_argument("--seconds", type=float, default=30.0, help="audio per configuration (default 30)")
    b.add_argument("--single-task", metavar="DIR,DIR,DIR",
                   help="exported single-task students (ASR, AT, SV): report the shared model's cost against their sum")
    b.add_argument("--cores", default="1,2", help="core counts to pin to with taskset (default 1,2)")
    b.add_argument("--json", action="store_true", help="machine-readable output")
    b.set_defaults(func=cmd_bench)

    so = sub.add_parser("soak", help="stream a long synthetic recording; report memory growth and per-chunk cost")
    runtime_args(so, speakers=False)
    so.add_argument("--minutes", type=float, default=60.0, help="minutes of audio (default 60)")
    so.add_argument("--json", action="store_true", help="machine-readable output")
    so.set_defaults(func=cmd_soak)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError, TypeError) as e:  # incl. Checkpoint/ModelFile errors
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
