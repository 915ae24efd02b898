"""`mt2kd-edge serve`: a streaming WebSocket server over one shared Engine, plus the browser demo page.

The protocol (the README's "Serve" section has it with examples):

  client -> server
    text    {"type": "start", "sample_rate": 48000, "format": "f32le"}    first, once; optional keys:
            "hotwords" (passed to Engine.create_stream), "tags": true (rolling top tags after every chunk),
            "enroll": "NAME" (this audio enrolls NAME instead of being decoded; needs --allow-enroll)
    binary  mono little-endian PCM in that format ("s16le" or "f32le") and rate, any length up to the limit
    text    {"type": "end"}                                             end of input
  server -> client (text, JSON)
    {"type": "ready", ...}                                              after a good start
    the objects of `run --jsonl` (without "file"): partial, final (with speaker), tag, speaker
    {"type": "tags", "end_ms": N, "tags": [{"label", "score"}, ...]}    with "tags": true
    {"type": "enrolled", "name", "utterances"}                          in enroll mode
    {"type": "done", "audio_ms": N}                                     after end: every event is sent; close 1000
    {"type": "error", "code", "message"}                                then close 1008 (protocol), 1009 (too big),
                                                                        1013 (server full) or 1011 (server fault)

One asyncio loop owns the engine and every stream. Readers only queue audio; one decoder task feeds the
queued audio into the streams and decodes one chunk of every ready stream per batched ``Engine.decode``
call, in a worker thread, so the loop keeps reading and writing while the model runs. No Stream is ever
touched by two threads at once: between decode calls only the loop thread uses them.
"""

from __future__ import annotations

import asyncio
import http
import inspect
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from . import _core
from .engine import Engine
from .results import FinalEvent, SpeakerEvent
from .speakers import SpeakerStore, SpeakerStoreError, check_name

log = logging.getLogger("mt2kd_edge.serve")

WEB_DIR = Path(__file__).with_name("web")  # the demo page: plain HTML/JS, no build step
STATIC = {"/": ("index.html", "text/html; charset=utf-8"), "/app.js": ("app.js", "text/javascript"),
          "/worklet.js": ("worklet.js", "text/javascript"), "/style.css": ("style.css", "text/css")}
# The page loads nothing from elsewhere; the browser enforces that too.
CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:"
WS_PATH = "/ws"
FORMATS = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}
START_KEYS = {"type", "sample_rate", "format", "hotwords", "tags", "enroll"}
MAX_ABS_SAMPLE = _core.ChunkerConfig().max_abs_sample  # the core refuses floats beyond this (int16-scaled)
MAX_CONTROL_BYTES = 64 * 1024  # one text (JSON) message
DEFAULT_PORT = 8765


@dataclass(frozen=True)
class Limits:
    """What one server and each of its connections may use. The CLI exposes the first three."""

    max_connections: int = 64  # open WebSocket connections; one more is refused (error server_full, close 1013)
    max_message_bytes: int = 256 * 1024  # one binary message (1.4 s of 48 kHz float32)
    max_rate: float = 4.0  # audio seconds per wall-clock second one connection may send, sustained...
    burst_s: float = 2.0  # ...plus this much at once; a faster sender is slowed down (not read), not refused
    min_message_s: float = 0.005  # every message costs at least this much of that budget (bounds messages/s)
    max_backlog_s: float = 30.0  # undecoded audio of one connection before the server stops reading it
    start_timeout_s: float = 10.0  # the start message must come this soon after connecting
    idle_timeout_s: float = 30.0  # and then some message at least this often
    max_outbox: int = 2000  # events queued for a client that does not read them: then it is closed
    max_enroll_s: float = 120.0  # audio of one enrollment
    # Streams per model call (0: every ready stream). 1 makes an int8 ONNX model's results equal to
    # offline decoding bit for bit: its activations are quantized with one scale per call, so a batch's
    # streams nudge each other's numbers (fp32 batches are exact).
    max_batch: int = 0

    def validate(self) -> None:
        if not 1 <= self.max_connections <= 100_000:
            raise ValueError(f"max_connections must be 1-100000, got {self.max_connections}")
        if not 1024 <= self.max_message_bytes <= 64 * 2**20:
            raise ValueError(f"max_message_bytes must be 1024-67108864, got {self.max_message_bytes}")
        if not 1.0 <= self.max_rate <= 1000.0:
            raise ValueError(f"max_rate must be 1-1000 (times real time), got {self.max_rate}")
        if not 0 <= self.max_batch <= 100_000:
            raise ValueError(f"max_batch must be 0-100000 (0: no limit), got {self.max_batch}")


class Fault(Exception):
    """A connection broke the protocol or a limit: it gets an error event and is closed, alone."""

    def __init__(self, code: str, message: str, close_code: int = 1008) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code


class Session:
    """One connection: its protocol state, its stream and the audio queued for the decoder."""

    def __init__(self, server: "Server", ws: ServerConnection, number: int) -> None:
        host, port = (ws.remote_address or ("?", 0))[:2]
        self.server, self.ws, self.name = server, ws, f"#{number} {host}:{port}"
        self.stream = None
        self.rate, self.dtype, self.top_tags = 0, FORMATS["s16le"], False
        self.enroll_name: str | None = None
        self.enroll_audio: list[np.ndarray] = []
        self.pending: list[np.ndarray] = []  # received, not yet fed into the stream (the decoder feeds it)
        self.received_samples = 0  # at the client's rate
        self.decoded_s = 0.0
        self.ended = self.input_finished = False
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.outcome: asyncio.Future = asyncio.get_running_loop().create_future()  # True (done) or a Fault
        self.spent_s, self.since, self.throttled = 0.0, time.monotonic(), False  # the rate limit's account

    # ---- the connection's own task ----

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        reader = asyncio.create_task(self._read())
        close_code, reason = 1000, "done"
        try:
            await asyncio.wait({reader, self.outcome}, return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and reader.exception() is None:  # "end" arrived: wait for the last events
                await self.outcome
            elif reader.done():
                raise reader.exception()
            result = self.outcome.result()
            if isinstance(result, Fault):
                raise result
            self.send({"type": "done", "audio_ms": int(round(self.received_samples / max(self.rate, 1) * 1000))})
        except Fault as f:
            self.server.fault(f"{self.name}: {f.code}: {f.message}")
            self.send({"type": "error", "code": f.code, "message": f.message})
            close_code, reason = f.close_code, f.code
        except ConnectionClosed as e:
            if self.stream is not None or self.enroll_name is not None:
                self.server.fault(f"{self.name}: disconnected mid-stream after "
                                  f"{self.received_samples / max(self.rate, 1):.2f} s of audio (close code "
                                  f"{e.rcvd.code if e.rcvd else 'none'})")
            else:
                log.debug("%s: closed before starting", self.name)
        finally:
            reader.cancel()
            self.server.detach(self)
            self.outbox.put_nowait(None)
            try:  # flush what is queued (the error event last), then close
                await asyncio.wait_for(writer, timeout=2.0)
            except (asyncio.TimeoutError, ConnectionClosed):
                writer.cancel()
            await self.ws.close(close_code, reason)
            log.debug("%s: closed (%d %s) after %.2f s of audio", self.name, close_code, reason,
                      self.received_samples / max(self.rate, 1))

    async def _write(self) -> None:
        while (item := await self.outbox.get()) is not None:
            await self.ws.send(json.dumps(item))

    def send(self, event: dict) -> None:
        if self.outbox.qsize() >= self.server.limits.max_outbox:
            self.fail(Fault("slow_reader", f"more than {self.server.limits.max_outbox} events wait for this client "
                                           "to read them"))
            return
        self.outbox.put_nowait(event)

    def fail(self, fault: Fault) -> None:
        if not self.outcome.done():
            self.outcome.set_result(fault)

    async def _recv(self, timeout: float):
        try:
            return await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            raise Fault("timeout", f"no message for {timeout:g} s") from None

    async def _read(self) -> None:
        limits = self.server.limits
        message = await self._recv(limits.start_timeout_s)
        if isinstance(message, bytes):
            raise Fault("not_started", "audio before the start message: send {\"type\": \"start\", "
                                       "\"sample_rate\": ..., \"format\": \"s16le\"|\"f32le\"} first")
        await self._start(self._control(message, "start"))
        while True:
            message = await self._recv(limits.idle_timeout_s)
            if isinstance(message, str):
                self._control(message, "end")
                self.ended = True
                self.server.wake()
                if self.enroll_name is not None:
                    await self._enroll()
                return
            samples = self._samples(message)
            await self._pace(len(samples) / self.rate)
            self._queue(samples)
            while self.stream is not None and self.received_samples / self.rate - self.decoded_s > limits.max_backlog_s:
                await self.server.progress.wait()  # the decoder is behind: stop reading (TCP pushes back)

    def _control(self, text: str, expected: str) -> dict:
        if len(text.encode()) > MAX_CONTROL_BYTES:
            raise Fault("too_big", f"a text message of more than {MAX_CONTROL_BYTES} bytes", 1009)
        try:
            message = json.loads(text)
        except ValueError as e:
            raise Fault("bad_message", f"a text message that is not JSON ({e})") from None
        if not isinstance(message, dict) or message.get("type") != expected:
            got = message.get("type") if isinstance(message, dict) else type(message).__name__
            raise Fault("bad_message", f"expected a {expected!r} message here, got {got!r}")
        return message

    async def _start(self, message: dict) -> None:
        server = self.server
        unknown = sorted(set(message) - START_KEYS)
        if unknown:
            raise Fault("bad_start", f"unknown start option(s) {unknown}; options are {sorted(START_KEYS - {'type'})}")
        rate, fmt = message.get("sample_rate"), message.get("format", "s16le")
        if isinstance(rate, bool) or not isinstance(rate, int) or not _core.MIN_SAMPLE_RATE <= rate <= _core.MAX_SAMPLE_RATE:
            raise Fault("bad_start", f"sample_rate must be a whole number of Hz in {_core.MIN_SAMPLE_RATE}-"
                                     f"{_core.MAX_SAMPLE_RATE}, got {rate!r}")
        if fmt not in FORMATS:
            raise Fault("bad_start", f"format must be one of {sorted(FORMATS)}, got {fmt!r}")
        self.rate, self.dtype, self.top_tags = rate, FORMATS[fmt], bool(message.get("tags", False))
        self.since = time.monotonic()
        if "enroll" in message:
            if not server.allow_enroll:
                raise Fault("enroll_disabled", "this server does not enroll speakers (start it with --allow-enroll)")
            try:
                self.enroll_name = check_name(message["enroll"])
            except (ValueError, TypeError) as e:
                raise Fault("bad_start", f"enroll: {e}") from None
        else:
            options = {}
            if "hotwords" in message:
                if not server.hotwords_supported:
                    raise Fault("unsupported", "this server's engine takes no hotwords (Engine.create_stream has "
                                               "no hotwords option in this version)")
                hotwords = message["hotwords"]  # phrases, or [phrase, boost] pairs (JSON has no tuples)
                if isinstance(hotwords, list):
                    hotwords = [tuple(h) if isinstance(h, list) else h for h in hotwords]
                options["hotwords"] = hotwords
            server.refresh_speakers()
            try:
                self.stream = server.engine.create_stream(**options)
            except (ValueError, TypeError) as e:
                raise Fault("bad_start", f"hotwords: {e}") from None
            server.attach(self)
        self.send({"type": "ready", "sample_rate": server.engine.sample_rate,
                   "chunk_ms": int(round(server.engine.chunk_samples * 1000 / server.engine.sample_rate)),
                   "labels": len(server.engine.labels), "speakers": server.engine.speakers.names(),
                   "max_message_bytes": server.limits.max_message_bytes, "max_rate": server.limits.max_rate,
                   "mode": "enroll" if self.enroll_name is not None else "decode"})

    async def _pace(self, audio_s: float) -> None:
        """The per-connection rate limit: since its start a connection may have sent burst_s plus
        max_rate x the time elapsed of audio. A client that sends faster is simply not read for a while,
        so TCP slows it down; that is logged once. (Counted from the start, not per message: when the
        server itself falls behind, it reads a real-time client's queued messages in a burst.)"""
        limits = self.server.limits
        self.spent_s += max(audio_s, limits.min_message_s)
        ahead = self.spent_s - limits.burst_s - (time.monotonic() - self.since) * limits.max_rate
        if ahead > 0:
            if not self.throttled:
                self.throttled = True
                self.server.fault(f"{self.name}: rate: sends faster than {limits.max_rate:g}x real time; "
                                  "throttled to it")
            await asyncio.sleep(ahead / limits.max_rate)

    def _samples(self, data: bytes) -> np.ndarray:
        limits = self.server.limits
        if len(data) > limits.max_message_bytes:
            raise Fault("too_big", f"a binary message of {len(data)} bytes; the limit is {limits.max_message_bytes}", 1009)
        if len(data) % self.dtype.itemsize:
            raise Fault("bad_audio", f"a binary message of {len(data)} bytes is not whole {self.dtype.itemsize}-byte "
                                     "samples")
        samples = np.frombuffer(data, dtype=self.dtype)
        if self.dtype.kind == "f":  # the core's checks, here, so the error names the sample before anything is fed
            bad = np.flatnonzero(~np.isfinite(samples) | (np.abs(samples) > MAX_ABS_SAMPLE))
            if len(bad):
                where = self.received_samples + int(bad[0])
                raise Fault("bad_audio", f"sample {where} ({where / self.rate:.3f} s) is {float(samples[bad[0]])}: float32 "
                                         f"samples must be finite and within +-{MAX_ABS_SAMPLE:g} (full scale is 1)")
            return samples.astype(np.float32)
        return samples.astype(np.int16)

    def _queue(self, samples: np.ndarray) -> None:
        limits = self.server.limits
        self.received_samples += len(samples)
        if self.enroll_name is not None:
            if self.received_samples > limits.max_enroll_s * self.rate:
                raise Fault("too_big", f"more than {limits.max_enroll_s:g} s of audio to enroll", 1009)
            self.enroll_audio.append(samples)
            return
        self.pending.append(samples)
        self.server.wake()

    async def _enroll(self) -> None:
        audio = np.concatenate(self.enroll_audio) if self.enroll_audio else np.zeros(0, np.float32)
        try:
            count = await asyncio.get_running_loop().run_in_executor(
                self.server.pool, self.server.enroll, self.enroll_name, audio, self.rate)
        except (ValueError, OSError) as e:
            raise Fault("enroll_failed", str(e)) from None
        self.send({"type": "enrolled", "name": self.enroll_name, "utterances": count})
        self.outcome.set_result(True)

    # ---- called by the decoder task, in the loop thread, while no decode is in flight ----

    def feed(self) -> None:
        for samples in self.pending:
            self.stream.accept_waveform(self.rate, samples)
        self.pending.clear()
        if self.ended and not self.input_finished:
            self.stream.input_finished()
            self.input_finished = True

    def after_step(self) -> None:
        """The events of one decoded chunk, from Engine.take_events as Engine.events yields them (the
        tests check the two agree). The rolling top tags go after the chunk's tag and partial events
        and before its segment's speaker and final, where they have always been."""
        engine, stream = self.server.engine, self.stream
        self.decoded_s += engine.chunk_samples / engine.sample_rate
        events = engine.take_events(stream)  # resets the stream at an endpoint
        segment_end = next((i for i, e in enumerate(events) if isinstance(e, (SpeakerEvent, FinalEvent))), len(events))
        for event in events[:segment_end]:
            self.send(event.as_json())
        if self.top_tags:
            self.send_top_tags()
        for event in events[segment_end:]:
            self.send(event.as_json())
        if stream.is_finished:
            self.finish()

    def send_top_tags(self) -> None:
        stream = self.stream
        self.send({"type": "tags", "end_ms": int(round(stream.processed_seconds * 1000)),
                   "tags": [{"label": t.label, "score": round(t.score, 4)} for t in stream.top_tags()]})

    def finish(self) -> None:
        self.server.detach(self)
        if not self.outcome.done():
            self.outcome.set_result(True)


class Server:
    """The engine, the open connections and the decoder task."""

    def __init__(self, engine: Engine, limits: Limits = Limits(), speakers_path: str | os.PathLike | None = None,
                 allow_enroll: bool = False) -> None:
        limits.validate()
        self.engine, self.limits, self.allow_enroll = engine, limits, allow_enroll
        self.speakers_path = Path(speakers_path) if speakers_path else None
        self._speakers_mtime = self._mtime()
        self.hotwords_supported = "hotwords" in inspect.signature(engine.create_stream).parameters
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mt2kd-decode")  # decode + one enrollment
        self.connections = 0
        self.active: dict[Session, None] = {}  # sessions with a stream to decode, in arrival order
        self._numbers = 0
        self._work: asyncio.Event | None = None
        self.progress: asyncio.Event | None = None
        # rounds: decoder passes over the ready streams; batches: model calls (several per round with max_batch)
        self.stats = {"rounds": 0, "batches": 0, "chunks": 0, "max_batch": 0, "decode_s": 0.0, "connections_total": 0,
                      "refused": 0, "faults": 0}
        self._pages = {path: ((WEB_DIR / name).read_bytes(), kind) for path, (name, kind) in STATIC.items()}

    # ---- serving ----

    async def run(self, host: str, port: int, ready=None, stop: asyncio.Future | None = None) -> None:
        """Serve until ``stop`` completes (or forever). ``ready(host, port)`` is called once listening."""
        self._work, self.progress = asyncio.Event(), asyncio.Event()
        decoder = asyncio.create_task(self._decode_loop())
        try:
            async with serve(self._handle, host, port, process_request=self._http,
                             max_size=4 * self.limits.max_message_bytes, max_queue=4,
                             ping_interval=20, ping_timeout=20) as ws_server:
                sock = next(iter(ws_server.sockets))
                if ready:
                    ready(*sock.getsockname()[:2])
                await (stop if stop is not None else asyncio.get_running_loop().create_future())
        finally:
            decoder.cancel()
            self.pool.shutdown(wait=True)

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == WS_PATH:
            return None  # the WebSocket handshake (websockets answers 426 to a plain GET)
        if path == "/stats":
            body = json.dumps({**self.stats, "connections": self.connections, "streams": len(self.active)}).encode()
            return _response(200, body, "application/json")
        if path in self._pages:
            body, kind = self._pages[path]
            return _response(200, body, kind)
        return _response(404, f"not found: {path}\n".encode(), "text/plain; charset=utf-8")

    async def _handle(self, ws: ServerConnection) -> None:
        self._numbers += 1
        self.stats["connections_total"] += 1
        if self.connections >= self.limits.max_connections:
            self.stats["refused"] += 1
            self.fault(f"#{self._numbers}: server_full: refused ({self.connections} connections open)")
            try:
                await ws.send(json.dumps({"type": "error", "code": "server_full", "message":
                                          f"the server is full ({self.limits.max_connections} connections); try later"}))
                await ws.close(1013, "server full")
            except ConnectionClosed:
                pass
            return
        self.connections += 1
        log.debug("#%d %s: connected (%d open)", self._numbers, ws.remote_address, self.connections)
        try:
            await Session(self, ws, self._numbers).run()
        finally:
            self.connections -= 1

    def fault(self, line: str) -> None:
        """One log line per fault of one connection; the others go on."""
        self.stats["faults"] += 1
        log.warning("fault %s", line)

    # ---- the decoder ----

    def attach(self, session: Session) -> None:
        self.active[session] = None

    def detach(self, session: Session) -> None:
        self.active.pop(session, None)

    def wake(self) -> None:
        if self._work is not None:
            self._work.set()

    async def _decode_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._work.wait()
            self._work.clear()
            while batch := self._ready():
                started = time.perf_counter()
                try:
                    await loop.run_in_executor(self.pool, self._decode, [s.stream for s in batch])
                except Exception as e:  # the model step failed: these streams cannot go on
                    log.error("decode failed for %d streams: %s", len(batch), e)
                    for s in batch:
                        s.fail(Fault("internal", f"the model step failed: {e}", 1011))
                        self.detach(s)
                    continue
                step = self.limits.max_batch or len(batch)
                self.stats["rounds"] += 1
                self.stats["batches"] += -(-len(batch) // step)
                self.stats["chunks"] += len(batch)
                self.stats["max_batch"] = max(self.stats["max_batch"], min(step, len(batch)))
                self.stats["decode_s"] += time.perf_counter() - started
                for s in batch:
                    if s in self.active:  # it may have disconnected meanwhile
                        s.after_step()
                self.progress.set()
                self.progress = asyncio.Event()

    def _decode(self, streams: list) -> None:  # in the worker thread
        step = self.limits.max_batch or len(streams)
        for i in range(0, len(streams), step):
            self.engine.decode(streams[i:i + step])

    def _ready(self) -> list[Session]:
        ready = []
        for s in list(self.active):
            try:
                s.feed()
            except (ValueError, TypeError) as e:  # refused by the core (the reader's checks should catch it first)
                s.fail(Fault("bad_audio", str(e)))
                self.detach(s)
                continue
            if s.stream.is_ready():
                ready.append(s)
            elif s.input_finished:  # ended with nothing left to decode
                s.finish()
        return ready

    # ---- speakers ----

    def _mtime(self) -> int | None:
        try:
            return os.stat(self.speakers_path).st_mtime_ns if self.speakers_path else None
        except FileNotFoundError:
            return None

    def refresh_speakers(self) -> None:
        """Re-read the store when its file changed (someone ran `mt2kd-edge enroll`): new streams see it."""
        mtime = self._mtime()
        if mtime == self._speakers_mtime:
            return
        try:
            self.engine.speakers = SpeakerStore(self.engine.embedding_dim, self.speakers_path if mtime else None)
            self._speakers_mtime = mtime
        except (SpeakerStoreError, OSError) as e:
            log.warning("speaker store %s not re-read (%s); keeping the one loaded before", self.speakers_path, e)

    def enroll(self, name: str, audio: np.ndarray, rate: int) -> int:
        """In a worker thread: the embedding, then the store edited under its lock. -> utterances of name."""
        embedding = self.engine.enrollment_embedding(audio, rate)
        if self.speakers_path is None:
            raise ValueError("this server has no speaker store file")
        with SpeakerStore.editing(self.speakers_path, self.engine.embedding_dim) as store:
            store.enroll(name, embedding)
            count = store.num_utterances(name)
        return count


def _response(status: int, body: bytes, kind: str) -> Response:
    headers = Headers([("Content-Type", kind), ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
                       ("Content-Security-Policy", CSP), ("Connection", "close")])
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def serve_forever(engine: Engine, host: str, port: int, limits: Limits, speakers_path: str | None,
                  allow_enroll: bool) -> None:
    """The CLI's entry: serve until SIGINT/SIGTERM, printing where on stdout (one line, flushed)."""
    import signal
    import sys

    # The ONNX backend's step takes the GIL to call onnxruntime; with the loop thread busy reading and
    # writing, the default 5 ms switch interval would make every decode call wait that long for it.
    sys.setswitchinterval(0.001)
    server = Server(engine, limits, speakers_path, allow_enroll)

    def ready(bound_host: str, bound_port: int) -> None:
        print(f"serving on http://{bound_host}:{bound_port}/ (WebSocket ws://{bound_host}:{bound_port}{WS_PATH}; "
              f"{engine.backend_name} backend, up to {limits.max_connections} connections)", flush=True)
        log.info("%d speaker(s) enrolled in %s (%s)", len(engine.speakers), speakers_path,
                 "clients may enroll" if allow_enroll else "read-only")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        await server.run(host, port, ready, stop)

    asyncio.run(main())
