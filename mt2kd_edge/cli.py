"""The `mt2kd-edge` command: run files or the microphone through the streaming runtime, manage
enrolled speakers, serve streams over WebSocket, benchmark and soak-test the exported forms, export
checkpoints, and check the torch model's streaming. Errors print as one line, not a traceback.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, core_version
from .model_files import default_model_dir

EPILOG = """examples:
  mt2kd-edge run clip.wav              stream a file through the bundled model: transcript, tags, speakers
  mt2kd-edge run --model DIR --jsonl a.wav b.wav      one JSON object per event (finals with word times)
  mt2kd-edge run --hotwords names.txt clip.wav        bias the recogniser towards your words
  mt2kd-edge run --no-lm --beam-size 1 clip.wav       plain greedy CTC (the bundled model uses beam 4 + its LM)
  mt2kd-edge run --realtime --piece-ms 20 clip.wav    feed 20 ms pieces at the pace of a live source
  mt2kd-edge live                       the microphone: live transcript, tags with bars, speaker
  mt2kd-edge live --list-devices        the input devices to choose from (--device N)
  mt2kd-edge enroll --model DIR alice a1.wav a2.wav   enroll a speaker (speakers.json by default)
  mt2kd-edge speakers list | remove NAME
  mt2kd-edge soak --model DIR --minutes 60            memory and per-chunk cost over an hour of audio
  mt2kd-edge bench                      latency, RTF, memory and size of every exported form, 1 and 2 cores
  mt2kd-edge export best.pt --out DIR   a checkpoint in every form (the options of `python -m export`)
  mt2kd-edge check                      stream 6 s of synthetic speech-like audio through the
                                        default-size (untrained) model and compare with a full pass
  mt2kd-edge check --audio clip.wav     the same on your own 16 kHz file
  mt2kd-edge check --checkpoint m.pt    the same with a trained checkpoint
  mt2kd-edge check --chunk-ms 640       the same with a 640 ms model chunk (the model's step; `run
                                        --piece-ms` is the size of the pieces audio is fed in)
  mt2kd-edge spec                       print the streaming contract (inputs, outputs, states)
  mt2kd-edge serve --port 8765          WebSocket server + browser demo at http://127.0.0.1:8765/
  mt2kd-edge stream-to ws://127.0.0.1:8765/ws clip.wav   stream a file to it: JSON lines like run --jsonl
  mt2kd-edge bench-serve --clients 16,64               many paced clients: partial latency p50/p95

environment:
  MT2KD_MODEL     the default model directory (instead of the bundled models/default)
  MT2KD_VERBOSE=1 also show the ExecuTorch runtime's own info lines (its cpuinfo probing) on stderr
"""


class _RenamedOption(argparse.Action):
    """An option's old spelling: it still works, and a note on stderr names the option that replaced it."""

    def __init__(self, option_strings, dest, new: str, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"note: {parser.prog} {option_string} is now {self.new}; the old spelling will go", file=sys.stderr)
        setattr(namespace, self.dest, values)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line that names the option (argparse's default prints the whole usage first)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def _number(kind: type, lo: float, hi: float, lo_open: bool = False):
    """An argparse type: ``kind`` (int or float) in [lo, hi] (or (lo, hi] with ``lo_open``)."""
    bounds = f"more than {lo:g} and at most {hi:g}" if lo_open else f"{lo:g}-{hi:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
        if not ((lo < value) if lo_open else (lo <= value)) or not value <= hi:  # NaN fails both
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


MAX_THREADS = 64
THREADS = _number(int, 1, MAX_THREADS)
SECONDS = _number(float, 0, 3600, lo_open=True)


def _about(path, e: BaseException) -> str:
    """The error's message, naming ``path`` once."""
    from pathlib import Path

    message = str(e)
    return message if message.startswith((str(path), str(Path(path)))) else f"{path}: {message}"


def _need_torch():
    """torch, for the commands that step the torch model (check, spec, export): the one place outside
    mt2kd_edge/model/ that imports it, so a runtime-only install gets a one-line error instead of a traceback."""
    try:
        import torch
    except ImportError:
        raise SystemExit("error: this command needs torch: pip install 'mt2kd-edge[train]'") from None
    return torch


def _load_model(args: argparse.Namespace):
    torch = _need_torch()

    from .model import ModelConfig, MT2KDModel, load_checkpoint

    if args.checkpoint:
        return load_checkpoint(args.checkpoint)[0], f"checkpoint {args.checkpoint}"
    torch.manual_seed(args.seed)
    config = ModelConfig(chunk_ms=args.chunk_ms) if args.chunk_ms is not None else ModelConfig()
    return MT2KDModel(config).eval(), "default config, UNTRAINED random weights (outputs are not meaningful)"


def cmd_check(args: argparse.Namespace) -> int:
    torch = _need_torch()

    from .audio_io import read_mono_16k
    from .model.streaming_check import run_check
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


def _decoding(args: argparse.Namespace) -> dict:
    """Engine options from the decoding flags (--beam-size, --lm/--no-lm, weights, --hotwords) a command has."""
    from .engine import read_hotwords

    out = {}
    if getattr(args, "beam_size", None) is not None:
        out["beam_size"] = args.beam_size
    if getattr(args, "no_lm", False):
        out["lm"] = None
    elif getattr(args, "lm", None):
        out["lm"] = args.lm
    for key in ("lm_weight", "word_bonus"):
        if getattr(args, key, None) is not None:
            out[key] = getattr(args, key)
    if getattr(args, "hotwords", None):
        out["hotwords"] = read_hotwords(args.hotwords)
    return out


def _engine(args: argparse.Namespace, **overrides):
    from .engine import Engine

    return Engine.from_dir(args.model, backend=args.backend, precision=args.precision, threads=args.threads,
                           speakers=getattr(args, "speakers", None), verify=not args.no_verify,
                           **{**_decoding(args), **overrides})


def cmd_run(args: argparse.Namespace) -> int:
    engine = _engine(args)
    failed = 0
    for path in args.files:
        # A bad file is reported and the next one still runs: the audio decoded before the error
        # keeps its events, and the exit code says something failed.
        try:
            _run_file(engine, path, args)
        except (ValueError, TypeError, OSError) as e:
            print(f"error: {_about(path, e)}", file=sys.stderr, flush=True)
            failed += 1
    if failed and len(args.files) > 1:
        print(f"error: {failed} of {len(args.files)} files failed", file=sys.stderr)
    return 2 if failed else 0


def _run_file(engine, path: str, args: argparse.Namespace) -> None:
    from .audio_io import read_audio
    from .event_format import format_event, json_line

    live = sys.stdout.isatty()  # partial lines redraw in place on a terminal only
    clear = "\r\033[K" if live else ""
    samples, rate = read_audio(path)
    piece = rate * args.piece_ms // 1000
    chunks = (samples[i:i + piece] for i in range(0, len(samples), piece))
    if args.realtime:
        chunks = _paced(chunks, args.piece_ms / 1000)
    if not args.jsonl:
        print(f"== {path} ({len(samples) / rate:.2f} s, {engine.backend_name})")
    for event in engine.events(chunks, sample_rate=rate):
        if args.jsonl:
            print(json_line(event, file=str(path)), flush=True)
        elif event.type != "partial":
            print(f"{clear}{format_event(event)}", flush=True)
        elif live:
            print(f"{clear}{format_event(event)}", end="", flush=True)


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
    from .speakers import SpeakerStore, check_name

    check_name(args.name)
    engine = _engine(args)
    embeddings = []
    for path in args.files:  # every file is checked before the store changes: all or nothing
        try:
            samples, rate = read_audio(path)
            embeddings.append(engine.enrollment_embedding(samples, rate, args.min_speech_s))
        except (ValueError, TypeError, OSError) as e:
            raise ValueError(f"{_about(path, e)}; nothing was enrolled") from None
    # The store is re-read under its lock: another process may have enrolled someone meanwhile.
    with SpeakerStore.editing(args.speakers, engine.embedding_dim) as store:
        for embedding in embeddings:
            store.enroll(args.name, embedding)
        count = store.num_utterances(args.name)
    print(f"enrolled {args.name!r} from {len(args.files)} file(s): {count} utterance(s) in {args.speakers}")
    return 0


def cmd_speakers(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .speakers import SpeakerStore

    path = Path(args.speakers)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no speaker store yet (enroll someone first)")
    if args.action == "list":
        store = SpeakerStore.load(path)
        for name in store.names():  # names hold no tabs or newlines: the store refuses them
            print(f"{name}\t{store.num_utterances(name)} utterance(s)")
        if not len(store):
            print("(no speakers enrolled)")
    else:
        if not args.name:
            raise ValueError("speakers remove needs a NAME")
        with SpeakerStore.editing(path) as store:
            store.remove(args.name)
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


# The recipes (export/, train/) are not in the wheel, and the SDK imports none of them. This is the one hand-off
# to a recipe: `mt2kd-edge export` looks python -m export's module up by name, in the source checkout.
EXPORT_RECIPE = "export.__main__"


def cmd_export(argv: list[str]) -> int:
    """`python -m export` with every one of its options: the arguments are passed on as they are."""
    _need_torch()
    return _export_recipe_main()(argv, prog="mt2kd-edge export")


def _export_recipe_main():
    """``python -m export``'s main; a one-line error where export/ is absent (an installed wheel) or where
    its own dependencies are."""
    import importlib
    import importlib.util

    try:
        found = importlib.util.find_spec(EXPORT_RECIPE)
    except ModuleNotFoundError:  # no export/ package at all
        found = None
    if found is None:
        raise SystemExit("error: `export` needs the source tree: run it from the mt2kd-edge repository root "
                         "(export/ is a recipe package, not part of the installed SDK)")
    try:
        return importlib.import_module(EXPORT_RECIPE).main
    except ImportError as e:
        raise SystemExit(f"error: `export` needs the export extra (pip install 'mt2kd-edge[export]'): {e}") from None


def cmd_bench(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from .bench import format_table, run_bench

    single = tuple(Path(d) for d in args.single_task.split(",")) if args.single_task else ()
    result = run_bench(Path(args.model), Path(args.checkpoint) if args.checkpoint else None, args.seconds, args.cores,
                       single, Path(args.cpp_app) if args.cpp_app else None)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    every = result["rows"] + result.get("decoding_rows", []) + result["parallel_rows"] + result["memory_rows"]
    errors = [r for r in every if "error" in r]
    if errors:
        print(f"error: {len(errors)} of {len(every)} configurations failed, e.g. {errors[0]['what']}: "
              f"{errors[0]['error']}", file=sys.stderr)
        return 1
    return 0


def _cores(text: str) -> tuple[int, ...]:
    import os

    available = os.cpu_count() or 1
    try:
        cores = tuple(int(c) for c in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers, got {text!r}") from None
    if not cores or any(not 1 <= c <= available for c in cores):
        raise argparse.ArgumentTypeError(f"each core count must be 1-{available} (this machine's cores), got {text}")
    return cores


def cmd_soak(args: argparse.Namespace) -> int:
    import json

    from .soak import soak

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


SERVE_BACKEND_HELP = ("onnx (default here): onnxruntime, which decodes many streams in one batched call; "
                      "executorch: one stream per call behind a global lock, so connections queue")


def _serve_parsers(sub, runtime_args, decoding_args) -> None:
    """`serve`, `stream-to` and `bench-serve` (mt2kd_edge/server.py, client.py, serve_bench.py)."""
    from . import _core
    from .server import DEFAULT_PORT, Limits

    sv = sub.add_parser("serve", help="WebSocket streaming server with a browser demo page (/)",
                        description="Serve the engine over WebSocket (ws://HOST:PORT/ws) to many connections at once, "
                        "decoded in batches through one shared model, and the browser demo page at "
                        "http://HOST:PORT/. The protocol is in the README (Serve).")
    runtime_args(sv, backend="onnx", backend_help=SERVE_BACKEND_HELP)
    decoding_args(sv)  # the same decoding as `run`, so a client gets what `run --jsonl` prints
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=_number(int, 0, 65535), default=DEFAULT_PORT,
                    help=f"TCP port, 0-65535 (0: any free one; default {DEFAULT_PORT})")
    sv.add_argument("--max-connections", type=_number(int, 1, 100_000), default=Limits.max_connections, metavar="N",
                    help=f"open connections, 1-100000; one more is refused (default {Limits.max_connections})")
    sv.add_argument("--max-message-bytes", type=_number(int, 1024, 64 * 2**20), default=Limits.max_message_bytes,
                    metavar="B", help=f"largest binary message, 1024-67108864 (default {Limits.max_message_bytes})")
    sv.add_argument("--max-rate", type=_number(float, 1, 1000), default=Limits.max_rate, metavar="X",
                    help=f"audio one connection may send, in x real time, 1-1000; faster senders are slowed "
                         f"down (default {Limits.max_rate:g})")
    sv.add_argument("--max-batch", type=_number(int, 0, 100_000), default=0, metavar="N",
                    help="streams per model call, 0-100000 (0: every ready stream, the default; 1: results "
                         "equal offline decoding exactly with an int8 ONNX model, whose per-call quantization "
                         "otherwise lets batched streams nudge each other's scores)")
    sv.add_argument("--allow-enroll", action="store_true",
                    help="let clients enroll speakers into --speakers (default: the store is read-only)")
    sv.add_argument("--verbose", action="store_true", help="also log every connection")
    sv.set_defaults(func=cmd_serve)

    st = sub.add_parser("stream-to", help="stream an audio file to a `serve` server; print its events as JSON lines")
    st.add_argument("url", help="the server: ws://HOST:PORT/ws (or http://HOST:PORT/)")
    st.add_argument("file", help="an audio file (any rate; the server resamples)")
    st.add_argument("--realtime", action="store_true", help="pace it like a live source (default: as fast as the "
                    "server's rate limit allows)")
    st.add_argument("--format", choices=("f32le", "s16le"), default="f32le", help="PCM sent (default f32le)")
    st.add_argument("--tags", action="store_true", help="also print the rolling top tags after every chunk")
    st.add_argument("--hotwords", nargs="+", metavar="WORD", help="hotwords for this stream (if the server's "
                    "engine takes them)")
    st.set_defaults(func=cmd_stream_to)

    bs = sub.add_parser("bench-serve", help="N concurrent real-time clients against `serve`: correctness and "
                        "partial latency p50/p95")
    runtime_args(bs, speakers=False, backend="onnx", backend_help=SERVE_BACKEND_HELP)
    bs.add_argument("--clients", type=_counts, default=(16, 64), metavar="N,N",
                    help="concurrent clients per run, each 1-1000 (default 16,64)")
    bs.add_argument("--seconds", type=_number(float, 1, 600), default=10.0, metavar="S",
                    help="audio per client, 1-600 (default 10)")
    bs.add_argument("--beam-size", type=_number(int, 1, _core.MAX_BEAM_SIZE), metavar="N",
                    help=f"CTC prefix beam size, 1-{_core.MAX_BEAM_SIZE} (default: the model's, as serve and run)")
    bs.add_argument("--max-batch", type=_number(int, 0, 100_000), default=0, metavar="N",
                    help="serve's --max-batch, 0-100000 (default 0: every ready stream)")
    bs.add_argument("--json", action="store_true", help="machine-readable output")
    bs.set_defaults(func=cmd_bench_serve)


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(c) for c in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers, got {text!r}") from None
    if not counts or any(not 1 <= c <= 1000 for c in counts):
        raise argparse.ArgumentTypeError(f"each count must be 1-1000, got {text}")
    return counts


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    from .server import Limits, serve_forever

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)  # its per-request lines; ours say what matters
    limits = Limits(max_connections=args.max_connections, max_message_bytes=args.max_message_bytes,
                    max_rate=args.max_rate, max_batch=args.max_batch)
    serve_forever(_engine(args), args.host, args.port, limits, args.speakers, args.allow_enroll)
    return 0


def cmd_stream_to(args: argparse.Namespace) -> int:
    import json

    from .client import ServerError, stream_file

    try:
        events = stream_file(args.url, args.file, realtime=args.realtime, fmt=args.format, tags=args.tags,
                             hotwords=args.hotwords)
    except ServerError as e:
        for event in e.events:
            print(json.dumps({"file": args.file, **event}), flush=True)
        raise RuntimeError(f"{args.url}: {e}") from None
    except OSError as e:  # refused, unreachable, closed early
        raise OSError(f"{args.url}: {e}") from None
    for event in events:
        print(json.dumps({"file": args.file, **event}), flush=True)
    return 0


def cmd_bench_serve(args: argparse.Namespace) -> int:
    import json

    from .serve_bench import format_report, run_bench_serve

    report = run_bench_serve(args.model, args.clients, args.seconds, backend=args.backend, precision=args.precision,
                             threads=args.threads, verify=not args.no_verify, beam_size=args.beam_size,
                             max_batch=args.max_batch)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    bad = [r for r in report["runs"] if r["finals_equal"] != r["clients"]]
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    from . import _core

    p = _Parser(
        prog="mt2kd-edge", description="Streaming ASR, audio tagging and speaker ID from one causal encoder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"mt2kd-edge {__version__} (core {core_version})")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def model_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--checkpoint", metavar="PATH", help="a trained checkpoint (default: untrained default model)")
        sp.add_argument("--chunk-ms", type=_number(int, 40, 10000), metavar="MS", help="the untrained model's "
                        "chunk (audio per model step), 40-10000 and a multiple of 40 (default 320)")
        sp.add_argument("--seed", type=_number(int, 0, 2**32 - 1), default=0, metavar="N",
                        help="weight seed of the untrained model, 0-4294967295 (default 0)")

    c = sub.add_parser("check", help="stream audio chunk by chunk and check it equals a full forward",
                       description="Stream audio through the model chunk by chunk, as a device would, time "
                       "each step, and check the result equals one full causal forward.")
    model_args(c)
    c.add_argument("--audio", metavar="WAV", help="a 16 kHz audio file (default: synthetic speech-like audio)")
    c.add_argument("--seconds", type=SECONDS, default=6.0, metavar="S",
                   help="length of the synthetic audio, more than 0 and at most 3600 (default 6)")
    c.add_argument("--threads", type=THREADS, default=1, metavar="N",
                   help=f"torch threads, 1-{MAX_THREADS} (default 1, as on a small device)")
    c.add_argument("--tolerance", type=_number(float, 0, 1, lo_open=True), default=1e-4, metavar="T",
                   help="max allowed |difference|, more than 0 and at most 1 (default 1e-4)")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("spec", help="print the streaming contract: input, outputs and state tensors")
    model_args(s)
    s.set_defaults(func=cmd_spec)

    def runtime_args(sp: argparse.ArgumentParser, speakers: bool = True, backend: str = "executorch",
                     backend_help: str = "executorch: native C++ (default); onnx: onnxruntime") -> None:
        sp.add_argument("--model", default=str(default_model_dir()), metavar="DIR",
                        help="an exported model directory (python -m export); default: the bundled model "
                             "(models/default, or $MT2KD_MODEL)")
        sp.add_argument("--backend", choices=("executorch", "onnx"), default=backend, help=backend_help)
        sp.add_argument("--precision", choices=("int8", "fp32"), help="default: int8 when present")
        sp.add_argument("--threads", type=THREADS, default=1, metavar="N", help=f"onnxruntime threads, 1-{MAX_THREADS} (default 1)")
        sp.add_argument("--no-verify", action="store_true",
                        help="skip checking the model file against the sha256 in its manifest.json")
        if speakers:
            sp.add_argument("--speakers", default="speakers.json", metavar="FILE",
                            help="speaker store to identify against / enroll into (default speakers.json)")

    def decoding_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--beam-size", type=_number(int, 1, _core.MAX_BEAM_SIZE), metavar="N",
                        help=f"CTC prefix beam size, 1-{_core.MAX_BEAM_SIZE} (1: greedy, no LM; default: the model's, "
                             "from its model.json, else 1)")
        lm = sp.add_mutually_exclusive_group()
        lm.add_argument("--lm", metavar="FILE", help="word n-gram LM to fuse in (ARPA, or the binary of "
                        "`python -m train.lm`); default: the model's own (model.json), if it has one")
        lm.add_argument("--no-lm", action="store_true", help="decode without a word LM")
        sp.add_argument("--lm-weight", type=_number(float, 0, 10), metavar="W",
                        help="LM weight, 0-10 (default: the model's, else 0.35)")
        sp.add_argument("--word-bonus", type=_number(float, -20, 20), metavar="B",
                        help="score added per word with an LM, -20-20 (default: the model's, else 1)")
        sp.add_argument("--hotwords", metavar="FILE", help="words or phrases to bias towards, one a line, each "
                        f"optionally with ' :BOOST' (log-score per letter, more than 0 and at most "
                        f"{_core.MAX_HOTWORD_BOOST:g}; default 1.5); needs beam search")

    r = sub.add_parser("run", help="stream audio files through the runtime and print what it hears")
    runtime_args(r)
    r.add_argument("files", nargs="+", metavar="FILE", help="audio files (any rate; resampled to the model's)")
    pieces = _number(int, 10, 10000)
    r.add_argument("--piece-ms", type=pieces, default=100, metavar="MS",
                   help="size of the audio pieces fed in, 10-10000 ms (default 100; any size works: the "
                        "runtime buffers them into the model's own chunks)")
    r.add_argument("--chunk-ms", type=pieces, dest="piece_ms", action=_RenamedOption, new="--piece-ms",
                   help=argparse.SUPPRESS)  # its name until issue 16; `check --chunk-ms` is the model chunk
    r.add_argument("--realtime", action="store_true", help="pace the input like a live source")
    r.add_argument("--jsonl", action="store_true", help="one JSON object per event instead of text")
    decoding_args(r)
    r.set_defaults(func=cmd_run)

    lv = sub.add_parser("live", help="listen to the microphone: live transcript, tags with bars, speaker")
    runtime_args(lv)
    lv.add_argument("--device", help="input device index or name (default: the system default)")
    lv.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    lv.add_argument("--sample-rate", type=_number(int, _core.MIN_SAMPLE_RATE, _core.MAX_SAMPLE_RATE), metavar="HZ",
                    help=f"capture rate, {_core.MIN_SAMPLE_RATE}-{_core.MAX_SAMPLE_RATE} Hz "
                         "(default: the device's; resampled)")
    lv.add_argument("--max-seconds", type=_number(float, 0, 7 * 86400, lo_open=True), metavar="S",
                    help="stop after this much audio, at most a week (default: until Ctrl-C)")
    lv.add_argument("--plain", action="store_true", help="print events as lines instead of a live view")
    lv.add_argument("--jsonl", action="store_true", help="one JSON object per event")
    decoding_args(lv)
    lv.set_defaults(func=cmd_live)

    e = sub.add_parser("enroll", help="enroll a speaker from one or more recordings")
    runtime_args(e)
    e.add_argument("name", help="the speaker's name (UTF-8, no tabs or newlines, at most 256 bytes)")
    e.add_argument("files", nargs="+", metavar="FILE", help="recordings of that speaker alone, each with at "
                   "least 1 s of sound")
    e.add_argument("--min-speech-s", type=_number(float, 0, 600), default=0.0, metavar="S",
                   help="also require this many seconds in which the model's tagger hears speech, 0-600 "
                        "(default 0: off; use it with a model whose tagger is trained, like the bundled one)")
    e.set_defaults(func=cmd_enroll)

    k = sub.add_parser("speakers", help="list or remove enrolled speakers")
    k.add_argument("action", choices=("list", "remove"))
    k.add_argument("name", nargs="?", help="the speaker to remove")
    k.add_argument("--speakers", default="speakers.json", metavar="FILE", help="speaker store (default speakers.json)")
    k.set_defaults(func=cmd_speakers)

    # Listed here for --help; main() hands `export ...` to python -m export's own parser before this one.
    sub.add_parser("export", add_help=False, help="export a checkpoint to ONNX, ExecuTorch and sherpa-onnx forms "
                   "(python -m export; `mt2kd-edge export --help` lists its options)")

    b = sub.add_parser("bench", help="latency, RTF, memory and sizes of every exported form, side by side")
    b.add_argument("--model", default=str(default_model_dir()), metavar="DIR",
                   help="an exported model directory (default: the bundled model)")
    b.add_argument("--checkpoint", metavar="PATH", help="also time torch eager on this checkpoint")
    b.add_argument("--seconds", type=SECONDS, default=30.0, metavar="S",
                   help="audio per configuration, more than 0 and at most 3600 (default 30)")
    b.add_argument("--single-task", metavar="DIR,DIR,DIR",
                   help="exported single-task students (ASR, AT, SV): report the shared model's cost against their sum")
    b.add_argument("--cores", type=_cores, default=(1, 2), metavar="N,N",
                   help="core counts to pin to with taskset, each 1 to this machine's cores (default 1,2)")
    b.add_argument("--cpp-app", metavar="PATH", help="the C++ example app whose peak memory is reported "
                   "(default: build/cpp/mt2kd_transcribe, which `make cpp-test` builds; skipped if absent)")
    b.add_argument("--json", action="store_true", help="machine-readable output")
    b.set_defaults(func=cmd_bench)

    so = sub.add_parser("soak", help="stream a long synthetic recording; report memory growth and per-chunk cost")
    runtime_args(so, speakers=False)
    so.add_argument("--minutes", type=_number(float, 0.01, 7 * 1440), default=60.0, metavar="M",
                    help="minutes of audio, 0.01-10080 (a week; default 60)")
    so.add_argument("--json", action="store_true", help="machine-readable output")
    so.set_defaults(func=cmd_soak)
    _serve_parsers(sub, runtime_args, decoding_args)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["export"]:  # every option of python -m export, without restating them here
        return cmd_export(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError, RuntimeError, TypeError) as e:  # incl. Checkpoint/ModelFile/SpeakerStore errors
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
