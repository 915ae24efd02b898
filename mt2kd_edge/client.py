"""A Python client for `mt2kd-edge serve`: stream a file (or samples) and get the events back.

    from mt2kd_edge.client import stream_file
    for event in stream_file("ws://127.0.0.1:8765/ws", "clip.wav", realtime=True):
        print(event)          # the objects of `mt2kd-edge run --jsonl`: partial, final, tag, speaker

``astream_audio`` is the asyncio form, which also records when each piece was sent and each event
arrived (what `mt2kd-edge bench-serve` measures latency from).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

CHUNK_MS = 100  # audio per message, as `run` feeds its files
FORMATS = ("f32le", "s16le")
SPEED_MARGIN = 0.9  # not realtime: send at this fraction of the server's rate limit (so it never throttles)


class ServerError(RuntimeError):
    """The server sent an error event (and closed the connection)."""

    def __init__(self, code: str, message: str, events: list[dict]) -> None:
        super().__init__(f"server error {code}: {message}")
        self.code, self.message, self.events = code, message, events


@dataclass
class StreamResult:
    events: list[dict]  # engine events in arrival order (partial, final, tag, speaker; "tags" when asked)
    received_s: list[float]  # time.monotonic() when each event arrived
    sent: list[tuple[float, float]] = field(default_factory=list)  # (time.monotonic() sent, audio end in s)
    ready: dict = field(default_factory=dict)  # the server's "ready" message
    done: dict = field(default_factory=dict)  # its "done" message

    def partial_latencies_s(self) -> list[float]:
        """For each partial: its arrival minus when the piece holding its last audio (end_ms) was sent."""
        ends = np.array([end for _, end in self.sent])
        out = []
        for event, t in zip(self.events, self.received_s):
            if event["type"] == "partial" and len(ends):
                i = min(int(np.searchsorted(ends, event["end_ms"] / 1000 - 1e-6)), len(ends) - 1)
                out.append(t - self.sent[i][0])
        return out


def ws_url(url: str) -> str:
    """http(s)://host:port[/] or ws(s)://host:port[/ws] -> the server's WebSocket address."""
    parts = urlsplit(url if "://" in url else f"ws://{url}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"{url}: not a ws://, wss://, http:// or https:// address")
    return urlunsplit((scheme, parts.netloc, parts.path if parts.path not in ("", "/") else "/ws", parts.query, ""))


def _encode(samples: np.ndarray, fmt: str) -> bytes:
    if fmt == "f32le":
        return samples.astype("<f4").tobytes()
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2").tobytes()


async def astream_audio(url: str, samples: np.ndarray, sample_rate: int, realtime: bool = False,
                        fmt: str = "f32le", chunk_ms: int = CHUNK_MS, tags: bool = False, hotwords=None,
                        speed: float | None = None, start_delay_s: float = 0.0,
                        open_timeout_s: float = 30.0) -> StreamResult:
    """Stream float32 ``samples`` (mono, in [-1, 1]) in ``chunk_ms`` pieces, after the server's ready
    message. ``realtime``: each piece is sent when a live source would have it; otherwise as fast as
    the server's rate limit allows (SPEED_MARGIN x its max_rate). ``speed`` overrides both (x real
    time; math.inf: unpaced). Raises ServerError on an error event."""
    from websockets.asyncio.client import connect

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    piece = max(1, sample_rate * chunk_ms // 1000)
    result = StreamResult([], [])
    start = {"type": "start", "sample_rate": int(sample_rate), "format": fmt}
    if tags:
        start["tags"] = True
    if hotwords is not None:
        start["hotwords"] = hotwords
    await asyncio.sleep(start_delay_s)
    async with connect(ws_url(url), open_timeout=open_timeout_s, max_size=None) as ws:
        await ws.send(json.dumps(start))
        first = json.loads(await ws.recv())
        if first.get("type") == "error":
            raise ServerError(first.get("code", "?"), first.get("message", ""), [])
        result.ready = first
        pace = speed or (1.0 if realtime else SPEED_MARGIN * float(first.get("max_rate", 1.0)))

        async def send_all() -> None:
            t0 = time.monotonic()
            for i in range(0, len(samples), piece):
                block = samples[i:i + piece]
                end_s = (i + len(block)) / sample_rate
                if (delay := t0 + end_s / pace - time.monotonic()) > 0:
                    await asyncio.sleep(delay)
                await ws.send(_encode(block, fmt))
                result.sent.append((time.monotonic(), end_s))
            await ws.send(json.dumps({"type": "end"}))

        sender = asyncio.create_task(send_all())
        try:
            async for message in ws:
                event = json.loads(message)
                kind = event.get("type")
                if kind == "done":
                    result.done = event
                    break
                elif kind == "error":
                    raise ServerError(event.get("code", "?"), event.get("message", ""), result.events)
                else:
                    result.events.append(event)
                    result.received_s.append(time.monotonic())
        finally:
            sender.cancel()
            try:
                await sender
            except (asyncio.CancelledError, Exception):
                pass
    if not result.done:
        raise ConnectionError(f"{url}: the server closed the connection before its done message")
    return result


def stream_file(url: str, path: str | Path, realtime: bool = False, fmt: str = "f32le", tags: bool = False,
                hotwords=None) -> list[dict]:
    """Stream an audio file (any rate soundfile reads) to the server -> the list of event dicts, the
    same objects as `mt2kd-edge run --jsonl` prints (without its "file" key)."""
    from .audio_io import read_audio

    samples, rate = read_audio(path)
    return asyncio.run(astream_audio(url, samples, rate, realtime, fmt, tags=tags, hotwords=hotwords)).events
