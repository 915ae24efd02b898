"""`mt2kd-edge live`: the microphone through sounddevice into the streaming engine, with a live
terminal view (transcript, top tags with bars, current speaker)."""

from __future__ import annotations

import queue
import sys
from collections.abc import Iterator

import numpy as np

from .engine import Engine, Stream
from .event_format import format_event, json_line
from .results import FinalEvent, PartialEvent, SpeakerEvent

BLOCK_MS = 20  # audio callback size


class NoInputDevice(RuntimeError):
    pass


def input_devices() -> list[dict]:
    import sounddevice as sd

    return [dict(d, index=i) for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


def resolve_device(device: str | None) -> tuple[int | str | None, int]:
    """-> (device for sounddevice, its default sample rate). Raises NoInputDevice clearly."""
    devices = input_devices()
    if not devices:
        raise NoInputDevice("no audio input device found: connect a microphone (on Linux: is ALSA configured "
                            "and libportaudio2 installed? `mt2kd-edge live --list-devices` shows what exists)")
    if device is None:
        import sounddevice as sd

        try:
            info = sd.query_devices(kind="input")
        except Exception:  # no default input: take the first one
            info = devices[0]
        return None, int(info["default_samplerate"])
    chosen = [d for d in devices if str(d["index"]) == device or d["name"] == device]
    if not chosen:
        names = ", ".join(f"{d['index']}: {d['name']}" for d in devices)
        raise NoInputDevice(f"no input device {device!r}; input devices are {names}")
    return chosen[0]["index"], int(chosen[0]["default_samplerate"])


def microphone(device: int | str | None, sample_rate: int, max_seconds: float | None) -> Iterator[np.ndarray]:
    """Blocks of int16 mono audio from a real sounddevice InputStream, as they arrive. int16 is what
    microphones deliver; asking ALSA's plug layer for float32 instead was seen to drop samples."""
    import sounddevice as sd

    blocks: queue.Queue = queue.Queue()

    def callback(indata, frames, time, status):  # runs on PortAudio's thread: hand over, nothing more
        blocks.put(indata[:, 0].copy())

    remaining = int(max_seconds * sample_rate) if max_seconds else None
    with sd.InputStream(device=device, channels=1, samplerate=sample_rate, dtype="int16",
                        blocksize=sample_rate * BLOCK_MS // 1000, callback=callback):
        while remaining is None or remaining > 0:
            block = blocks.get()
            if remaining is not None:
                block = block[:remaining]
                remaining -= len(block)
            yield block


def bar(score: float, width: int = 20) -> str:
    filled = int(round(max(0.0, min(1.0, score)) * width))
    return "█" * filled + "·" * (width - filled)


def render(finals: list[str], partial: str, stream: Stream, speaker: str) -> str:
    lines = ["\033[H\033[J mt2kd-edge live   (Ctrl-C to stop)", ""]
    lines += [f"  {line}" for line in finals[-6:]]
    lines.append(f"  … {partial}" if partial else "")
    lines += ["", " now hearing:"]
    lines += [f"  {t.label[:28]:<28} {bar(t.score)} {t.score:.2f}" for t in stream.top_tags()]
    lines += ["", f" speaker: {speaker}", f" {stream.processed_seconds:7.1f} s of audio"]
    return "\n".join(lines)


def run_live(engine: Engine, device: str | None, sample_rate: int | None, max_seconds: float | None,
             plain: bool, jsonl: bool) -> None:
    """The live view on a terminal; otherwise each event as a line, as `run` prints it (or JSON)."""
    dev, default_rate = resolve_device(device)
    rate = sample_rate or default_rate
    stream = engine.create_stream()
    view = sys.stdout.isatty() and not plain and not jsonl
    finals: list[str] = []
    partial, speaker = "", "-"
    for event in engine.events(microphone(dev, rate, max_seconds), sample_rate=rate, stream=stream):
        if jsonl:
            print(json_line(event), flush=True)
            continue
        if not view:
            if not isinstance(event, PartialEvent):
                print(format_event(event), flush=True)
            continue
        if isinstance(event, PartialEvent):
            partial = event.text
        elif isinstance(event, FinalEvent):
            finals.append(format_event(event))
            partial = ""
        elif isinstance(event, SpeakerEvent):
            speaker = f"{event.name or 'unknown'} ({event.score:.2f})"
        print(render(finals, partial, stream, speaker), end="", flush=True)
    if view:
        print()
