"""`mt2kd-edge serve`: the WebSocket protocol, many paced clients at once, faults, the page's files.

Every server here is the real command (`python -m mt2kd_edge.cli serve --port 0`) in a child process on
the loopback interface; every reference is the real `mt2kd-edge run --jsonl` on the same file. The exact
comparisons use a tiny fp32 ONNX export: fp32 batches are bit-exact per stream, while an int8 model's
per-call activation scale lets batched streams nudge each other (see test_int8_model_with_max_batch_1...).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mt2kd_edge.audio_io import read_audio
from mt2kd_edge.client import ServerError, astream_audio, stream_file, ws_url
from mt2kd_edge.serve_bench import ServerProcess, make_clips

from conftest import ROOT, make_tiny_checkpoint

BUNDLED = ROOT / "models" / "default"
DEMO = BUNDLED / "demo"
CLIENTS = 16  # the load test: 16 clients x CLIP_S of audio each, paced in real time
CLIP_S = 3.0


@pytest.fixture(scope="module")
def tiny32(tmp_path_factory) -> dict:
    """A tiny random model as fp32 ONNX (1-2 s to export) with two enrolled voices."""
    from export import model_dir as md
    from mt2kd_edge.engine import Engine
    from mt2kd_edge.speakers import SpeakerStore

    tmp = tmp_path_factory.mktemp("serve_model")
    out = tmp / "model"
    md.export_checkpoint(make_tiny_checkpoint(tmp / "tiny.pt"), out,
                         md.ExportOptions(forms=("onnx-fp32",), log=lambda *_: None))
    engine = Engine.from_dir(out, backend="onnx")
    store = SpeakerStore(engine.embedding_dim)
    for name in ("alan", "ken"):
        samples, rate = read_audio(DEMO / "enroll" / f"{name}_1.wav")
        store.enroll(name, engine.embed(samples, rate))
    speakers = store.save(tmp / "speakers.json")
    return {"dir": out, "speakers": speakers, "chunk_s": engine.chunk_samples / engine.sample_rate}


def run_jsonl(model: Path, speakers: Path, files: list[Path], *extra: str) -> dict[str, list[dict]]:
    """`mt2kd-edge run --jsonl --backend onnx` -> {file: its events without the "file" key}."""
    out = subprocess.run([sys.executable, "-m", "mt2kd_edge.cli", "run", "--jsonl", "--backend", "onnx", "--model",
                          str(model), "--speakers", str(speakers), *extra, *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    events: dict[str, list[dict]] = {str(f): [] for f in files}
    for line in out.stdout.splitlines():
        event = json.loads(line)
        events[event.pop("file")].append(event)
    return events


def write_clips(tmp_path: Path, count: int, seconds: float) -> list[Path]:
    paths = []
    for k, (x, rate) in enumerate(make_clips(DEMO / "clip.wav", count, seconds)):
        paths.append(tmp_path / f"client{k:02d}_{rate}.wav")
        sf.write(paths[-1], x, rate, subtype="PCM_16")
    return paths


def fault_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " fault " in line]


async def raw_session(url: str, *messages, abort_after: bool = False) -> tuple[list[dict], int | None]:
    """Send ``messages`` as they are (str: text, bytes: binary), then read until the server closes
    -> (its messages, its close code). ``abort_after``: drop the TCP connection instead."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    events: list[dict] = []
    async with connect(url, max_size=None) as ws:
        try:
            for m in messages:
                await ws.send(m)
        except ConnectionClosed:  # the server may close before all is sent: what it said is still queued
            pass
        if abort_after:
            await asyncio.sleep(0.3)
            ws.transport.abort()
            return events, None
        try:
            async for m in ws:
                events.append(json.loads(m))
        except ConnectionClosed:
            pass
        return events, ws.close_code


def start(rate: int = 16000, fmt: str = "s16le", **options) -> str:
    return json.dumps({"type": "start", "sample_rate": rate, "format": fmt, **options})


# ---- the protocol and the client ----

def test_stream_to_prints_what_run_jsonl_prints(tiny32):
    clip = DEMO / "clip.wav"
    want = run_jsonl(tiny32["dir"], tiny32["speakers"], [clip])[str(clip)]
    assert {e["type"] for e in want} >= {"partial", "final", "speaker"}
    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(tiny32["speakers"])) as server:
        printed = subprocess.run([sys.executable, "-m", "mt2kd_edge.cli", "stream-to", server.url, str(clip)],
                                 capture_output=True, text=True, timeout=120)
        as_s16 = stream_file(f"{server.http}/", clip, fmt="s16le")  # http:// works too: it means /ws
        with_tags = stream_file(server.url, clip, tags=True)
        log = server.stop()
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert [json.loads(line) for line in printed.stdout.splitlines()] == [{"file": str(clip), **e} for e in want]
    assert as_s16 == want  # a 16-bit file sent as int16 is the same audio
    rolling = [e for e in with_tags if e["type"] == "tags"]
    assert [e for e in with_tags if e["type"] != "tags"] == want
    ends = [e["end_ms"] for e in rolling]  # one per model chunk, the top 3 tags, best first
    import soundfile as sf

    assert len(ends) == int(np.ceil(sf.info(str(clip)).duration / tiny32["chunk_s"])) and ends == sorted(set(ends))
    assert all(len(e["tags"]) == 3 and e["tags"][0]["score"] >= e["tags"][1]["score"] for e in rolling)
    assert fault_lines(log) == []


def test_ws_url_accepts_http_and_bare_addresses():
    assert ws_url("http://127.0.0.1:8765/") == "ws://127.0.0.1:8765/ws"
    assert ws_url("127.0.0.1:8765") == "ws://127.0.0.1:8765/ws"
    assert ws_url("wss://example.org/ws") == "wss://example.org/ws"
    with pytest.raises(ValueError, match="not a ws://"):
        ws_url("ftp://example.org/")


def test_page_and_assets_are_served_and_load_nothing_from_elsewhere(tiny32):
    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(tiny32["speakers"])) as server:
        pages = {}
        for path in ("/", "/app.js", "/worklet.js", "/style.css", "/stats"):
            with urllib.request.urlopen(server.http + path, timeout=10) as r:
                pages[path] = (r.status, r.headers["Content-Type"], r.headers["Content-Security-Policy"], r.read())
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.http + "/../../etc/passwd", timeout=10)
        with pytest.raises(urllib.error.HTTPError) as plain_get:
            urllib.request.urlopen(server.http + "/ws", timeout=10)
    assert pages["/"][:2] == (200, "text/html; charset=utf-8") and b"/app.js" in pages["/"][3]
    assert pages["/app.js"][1] == pages["/worklet.js"][1] == "text/javascript"
    assert all(p[2].startswith("default-src 'self'") for p in pages.values())
    for path in ("/", "/app.js", "/worklet.js", "/style.css"):
        text = pages[path][3].decode()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path
    assert json.loads(pages["/stats"][3])["connections"] == 0
    assert missing.value.code == 404 and plain_get.value.code == 426


def test_serve_options_are_checked():
    for args, word in ((["--port", "70000"], "--port"), (["--max-connections", "0"], "--max-connections"),
                       (["--max-rate", "0.5"], "--max-rate")):
        out = subprocess.run([sys.executable, "-m", "mt2kd_edge.cli", "serve", *args], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 2 and word in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    helped = subprocess.run([sys.executable, "-m", "mt2kd_edge.cli", "serve", "--help"], capture_output=True,
                            text=True, timeout=60).stdout
    assert "onnx (default here)" in helped and "batched" in helped


# ---- load: many paced clients at once ----

def test_16_realtime_clients_each_get_exactly_the_events_of_run(tiny32, tmp_path):
    paths = write_clips(tmp_path, CLIENTS, CLIP_S)  # 16 different clips at 16, 48, 8 and 44.1 kHz
    want = run_jsonl(tiny32["dir"], tiny32["speakers"], paths)
    audio = [read_audio(p) for p in paths]
    spread = 0.32 / CLIENTS

    async def all_clients():
        return await asyncio.wait_for(asyncio.gather(*[
            astream_audio(url, x, rate, realtime=True, fmt=("f32le", "s16le")[k % 2], start_delay_s=k * spread)
            for k, (x, rate) in enumerate(audio)]), timeout=CLIP_S + 60)

    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(tiny32["speakers"]),
                       "--max-connections", str(CLIENTS)) as server:
        url = server.url
        began = time.monotonic()
        results = asyncio.run(all_clients())
        wall = time.monotonic() - began
        stats = server.stats()
        log = server.stop()
    for path, result in zip(paths, results):
        assert result.events == want[str(path)], path.name
        assert any(e["type"] == "final" for e in result.events) and any(e["type"] == "partial" for e in result.events)
    chunks = int(np.ceil(CLIP_S / tiny32["chunk_s"] - 1e-9))
    assert stats["chunks"] == CLIENTS * chunks and stats["connections_total"] == CLIENTS
    assert stats["faults"] == 0 and fault_lines(log) == []
    assert CLIP_S <= wall < CLIP_S + 30  # paced: no client finished before its audio had played


@pytest.mark.skipif(not (BUNDLED / "model.int8.onnx").is_file(), reason="the bundled model is missing")
def test_int8_model_with_max_batch_1_equals_run_exactly(tmp_path):
    """The bundled int8 model: one stream per model call gives the offline events bit for bit (batched,
    its dynamic activation quantization shares one scale per call, so scores move by ~1e-3)."""
    paths = write_clips(tmp_path, 6, 4.0)
    speakers = DEMO / "speakers.json"
    want = run_jsonl(BUNDLED, speakers, paths)
    audio = [read_audio(p) for p in paths]

    async def all_clients(url):
        return await asyncio.gather(*[astream_audio(url, x, rate) for x, rate in audio])

    with ServerProcess("--model", str(BUNDLED), "--speakers", str(speakers), "--max-batch", "1") as server:
        results = asyncio.run(asyncio.wait_for(all_clients(server.url), 120))
    for path, result in zip(paths, results):
        assert result.events == want[str(path)], path.name


# ---- faults: each one closes its own connection, is logged once, and the others go on ----

def test_faults_close_only_their_connection_and_are_logged_once(tiny32, tmp_path):
    (tmp_path / "fast").mkdir()
    good_paths = write_clips(tmp_path, 3, CLIP_S) + write_clips(tmp_path / "fast", 1, 6.0)  # the last one at 10x
    want = run_jsonl(tiny32["dir"], tiny32["speakers"], good_paths)
    good = [read_audio(p) for p in good_paths]
    speakers_before = tiny32["speakers"].read_bytes()
    second = np.zeros(16000, np.int16).tobytes()
    nan = np.zeros(1600, np.float32)
    nan[123] = np.nan

    async def scenario(url):
        honest = [asyncio.create_task(astream_audio(url, x, rate, realtime=True)) for x, rate in good[:3]]
        fast = asyncio.create_task(astream_audio(url, *good[3], speed=10.0))  # 10x real time: throttled to 4x
        await asyncio.sleep(0.5)
        faults = await asyncio.gather(
            raw_session(url, start(), second, abort_after=True),           # gone mid-stream
            raw_session(url, b"\x00\x01garbage"),                          # audio before start
            raw_session(url, "{not json"),                                 # garbage text
            raw_session(url, start(), b"\x01\x02\x03"),                    # half an int16 sample
            raw_session(url, start(fmt="f32le"), nan.tobytes()),           # NaN
            raw_session(url, start(), b"\x00" * 70_000),                   # over --max-message-bytes
            raw_session(url, start(rate=1000)),                            # rate out of range
            raw_session(url, start(rate=10**9)),
            raw_session(url, start(volume=11)),                            # unknown option
            raw_session(url, start(enroll="eve")),                         # enrolling is off here
            raw_session(url, start(hotwords=[123])),                       # not a phrase
        )
        return await asyncio.gather(*honest), await fast, faults

    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(tiny32["speakers"]),
                       "--max-message-bytes", "65536", "--max-rate", "4") as server:
        began = time.monotonic()
        honest, fast, faults = asyncio.run(asyncio.wait_for(scenario(server.url), 90))
        stats = server.stats()
        log = server.stop()
    for path, result in zip(good_paths, [*honest, fast]):  # the others were served, exactly
        assert result.events == want[str(path)], path.name
    assert time.monotonic() - began < 60
    expected = [None, ("not_started", 1008), ("bad_message", 1008), ("bad_audio", 1008), ("bad_audio", 1008),
                ("too_big", 1009), ("bad_start", 1008), ("bad_start", 1008), ("bad_start", 1008),
                ("enroll_disabled", 1008), ("bad_start", 1008)]
    for (events, code), want_error in zip(faults, expected):
        if want_error:
            assert events[-1]["type"] == "error" and (events[-1]["code"], code) == want_error, events
    assert "sample 123 (0.008 s) is nan" in faults[4][0][-1]["message"]
    assert "4000-192000" in faults[6][0][-1]["message"] or "outside" in faults[6][0][-1]["message"]
    lines = fault_lines(log)
    assert len(lines) == 12 == stats["faults"], "\n".join(lines)  # 11 bad clients + the fast one, once
    assert sum("disconnected mid-stream" in line for line in lines) == 1
    assert sum("rate: sends faster than 4x" in line for line in lines) == 1
    for code in ("not_started", "bad_message", "too_big", "enroll_disabled"):
        assert sum(f": {code}: " in line for line in lines) == 1, code
    assert tiny32["speakers"].read_bytes() == speakers_before  # read-only without --allow-enroll


def test_a_full_server_refuses_cleanly_and_serves_again_when_a_slot_frees(tiny32):
    from websockets.asyncio.client import connect

    async def scenario(url):
        async with connect(url) as a, connect(url) as b:
            for ws in (a, b):
                await ws.send(start())
                assert json.loads(await ws.recv())["type"] == "ready"
            refused, code = await raw_session(url, start())
        await asyncio.sleep(0.3)  # both closed: the slots are free again
        again = await astream_audio(url, np.zeros(8000, np.float32), 16000)
        return refused, code, again

    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(tiny32["speakers"]),
                       "--max-connections", "2") as server:
        refused, code, again = asyncio.run(asyncio.wait_for(scenario(server.url), 60))
        log = server.stop()
    assert refused == [{"type": "error", "code": "server_full", "message": refused[0]["message"]}] and code == 1013
    assert "2 connections" in refused[0]["message"] and again.done["audio_ms"] == 500
    assert [line for line in fault_lines(log) if "server_full" in line] and len(fault_lines(log)) == 3  # + 2 gone


def test_hotwords_are_passed_to_the_stream_or_refused_clearly(tiny32):
    from mt2kd_edge.engine import Engine

    supported = "hotwords" in inspect.signature(Engine.create_stream).parameters
    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(tiny32["speakers"]),
                       "--beam-size", "4") as server:
        try:
            events = stream_file(server.url, DEMO / "clip.wav", hotwords=["the cat", ["mat", 2.0]])
            error = None
        except ServerError as e:
            events, error = [], e
    if supported:
        assert error is None and any(e["type"] == "final" for e in events)
    else:
        assert error is not None and error.code == "unsupported"


def test_enrolling_over_the_socket_needs_allow_enroll_and_updates_the_store(tiny32, tmp_path):
    store = tmp_path / "speakers.json"
    samples, rate = read_audio(DEMO / "enroll" / "ken_2.wav")

    async def scenario(url):
        pieces = [samples[i:i + rate // 10].astype("<f4").tobytes() for i in range(0, len(samples), rate // 10)]
        enrolled, _ = await raw_session(url, start(rate=rate, fmt="f32le", enroll="zoe"), *pieces,
                                        json.dumps({"type": "end"}))
        later = await astream_audio(url, samples, rate)
        return enrolled, later

    with ServerProcess("--model", str(tiny32["dir"]), "--speakers", str(store), "--allow-enroll") as server:
        enrolled, later = asyncio.run(asyncio.wait_for(scenario(server.url), 60))
    assert [e["type"] for e in enrolled] == ["ready", "enrolled", "done"], enrolled
    assert enrolled[1] == {"type": "enrolled", "name": "zoe", "utterances": 1}
    assert later.ready["speakers"] == ["zoe"]  # the next stream identifies against the new store
    assert json.loads(store.read_text())["speakers"][0]["name"] == "zoe"


def test_silent_connections_time_out_in_process(tiny32):
    """The start and idle timeouts, on an in-process Server with short limits (the same code as `serve`)."""
    from mt2kd_edge.engine import Engine
    from mt2kd_edge.server import Limits, Server

    server = Server(Engine.from_dir(tiny32["dir"], backend="onnx"), Limits(start_timeout_s=0.5, idle_timeout_s=0.5))

    async def scenario():
        loop = asyncio.get_running_loop()
        stop, bound = loop.create_future(), loop.create_future()
        task = asyncio.create_task(server.run("127.0.0.1", 0, lambda h, p: bound.set_result(f"ws://{h}:{p}/ws"), stop))
        url = await bound
        began = time.monotonic()
        never_started, started_then_silent = await asyncio.gather(raw_session(url), raw_session(url, start()))
        took = time.monotonic() - began
        stop.set_result(None)
        await task
        return never_started, started_then_silent, took

    never_started, started_then_silent, took = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert never_started[0][-1]["code"] == "timeout" and never_started[1] == 1008
    assert [e["type"] for e in started_then_silent[0]] == ["ready", "error"] and started_then_silent[0][-1]["code"] == "timeout"
    assert took < 5 and server.stats["faults"] == 2
