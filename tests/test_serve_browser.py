"""The demo page end to end in a real browser: headless Chromium (Debian's, installed by `make setup`)
opens `mt2kd-edge serve`'s page with a fake microphone that plays the demo clip, and the page's
transcript, speaker turns and tag timeline, read from its DOM, are checked twice:

- exactly against the offline decoding of the very audio the page sent (it keeps a copy with ?keep=1):
  the page, the protocol and the server add nothing and lose nothing;
- within tolerances against `mt2kd-edge run` on the clip file. The audio takes Chromium's own path (file
  -> fake capture device -> getUserMedia -> AudioWorklet at the AudioContext's rate, 44.1 kHz headless ->
  the server's resampler), which starts it up to ~12 ms early or late and, on a busy machine, can glitch
  it; the bundled model's words change with a 10 ms shift, so the text is only compared loosely, while
  utterances, speakers, sound-event labels, times and scores must agree within the tolerances below.

A screenshot is saved in the test's output (and copied to $MT2KD_TEST_ARTIFACTS when that is set).
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import correlate, resample_poly

from cdp import Browser, find_chromium
from conftest import ROOT
from mt2kd_edge.audio_io import read_audio
from mt2kd_edge.engine import DEFAULT_SPEAKER_THRESHOLD, Engine
from mt2kd_edge.serve_bench import ServerProcess

MODEL = ROOT / "models" / "default"
DEMO = MODEL / "demo"
TIME_TOLERANCE_MS = 400  # a model chunk is 320 ms: an event may start one chunk apart
SCORE_TOLERANCE = 0.1
MIN_TEXT_SIMILARITY = 0.3  # difflib ratio of the whole transcript: seen 0.59-1.00; the words are fragile
CONFIDENT_TAG_SCORE = 0.8  # a real sound's tag event this sure is in both captures (the demo's siren was also seen at 0.50)
MAX_LAG_S = 0.1  # each window of the captured audio lies within this of the clip...
MIN_WINDOW_CORRELATION = 0.8  # ...and follows it this closely (after aligning that window alone)...
MIN_WELL_ALIGNED = 0.85  # ...in this share of the voiced windows (a glitch spoils the one or two it falls in: 2 of 18 seen)
WINDOW_S = 0.5

PAGE_STATE = """(() => {
  const num = (x) => Number(x);
  return {
    state: window.mt2kd.state, error: window.mt2kd.error, sampleRate: window.mt2kd.sampleRate,
    finals: [...document.querySelectorAll('#transcript li')].map((li) => ({speaker: li.dataset.speaker,
      start_ms: num(li.dataset.startMs), end_ms: num(li.dataset.endMs), text: li.dataset.text, shown: li.textContent})),
    turns: [...document.querySelectorAll('#timeline .turn')].map((d) => ({speaker: d.dataset.speaker,
      start_ms: num(d.dataset.startMs), end_ms: num(d.dataset.endMs), score: num(d.dataset.score)})),
    tags: [...document.querySelectorAll('#timeline .tag-event')].map((d) => ({label: d.dataset.label,
      start_ms: num(d.dataset.startMs), end_ms: num(d.dataset.endMs), score: num(d.dataset.score)})),
    speaker: document.getElementById('speaker').textContent,
    bars: [...document.querySelectorAll('#tagbars li .label')].map((x) => x.textContent),
  };
})()"""


def same_speaker(got: str, ref: str | None, ref_score: float) -> bool:
    """The same name, unless `run`'s score is so near the threshold that the browser's slightly
    different audio may fall on the other side of it (then the name or "unknown" will do)."""
    if abs(ref_score - DEFAULT_SPEAKER_THRESHOLD) <= SCORE_TOLERANCE:
        return got in (ref or "unknown", "unknown")
    return got == (ref or "unknown")


def span_scores(engine: Engine, clip: np.ndarray, rate: int, segment: dict) -> dict[str, float]:
    """Every enrolled name's score on `segment`'s span of the clip file.

    A segment the browser's capture ends a few hundred ms off `run`'s is other audio to the speaker head: on the
    demo's first turn the session-15 bundle scored alan 0.73 / ken 0.40 over 0-3520 ms and alan 0.50 / ken 0.68 over
    0-3840 ms (session 16's: alan 0.50 / ken 0.50 and alan 0.27 / ken 0.70), so the page's name and score are
    checked against its own span too."""
    piece = clip[int(segment["start_ms"] * rate / 1000):int(segment["end_ms"] * rate / 1000)]
    embedding = engine.embed(piece, rate)
    return {n: engine.speakers.verify(n, embedding, engine.speaker_threshold)[0] for n in engine.speakers.names()}


def names_near_best(engine: Engine, clip: np.ndarray, rate: int, segment: dict) -> set[str]:
    """The enrolled names scoring within SCORE_TOLERANCE of the best on `segment`'s span of the clip file."""
    scores = span_scores(engine, clip, rate, segment)
    best = max(scores.values())
    return {n for n, v in scores.items() if v >= best - SCORE_TOLERANCE}


def aligned_windows(captured: np.ndarray, clip: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """For each voiced window of `clip` (skipping near-silence, where correlation means nothing), the lag of
    `captured` that best matches it within +-MAX_LAG_S, and the correlation at that lag."""
    width, reach = int(WINDOW_S * rate), int(MAX_LAG_S * rate)
    loud = 0.1 * np.sqrt(np.mean(clip ** 2))
    lags, correlations = [], []
    for start in range(reach, len(clip) - width - reach, width):
        piece = clip[start:start + width]
        if np.sqrt(np.mean(piece ** 2)) < loud or start + width + reach > len(captured):
            continue
        span = captured[start - reach:start + width + reach]
        best = int(np.argmax(correlate(span, piece, mode="valid", method="fft")))
        lags.append(best - reach)
        correlations.append(float(np.corrcoef(span[best:best + width], piece)[0, 1]))
    return np.array(lags), np.array(correlations)


def close_in_time(a: dict, b: dict) -> bool:
    return abs(a["start_ms"] - b["start_ms"]) <= TIME_TOLERANCE_MS and abs(a["end_ms"] - b["end_ms"]) <= TIME_TOLERANCE_MS


@pytest.mark.skipif(not (MODEL / "model.int8.onnx").is_file(), reason="the bundled model is missing")
def test_demo_page_in_headless_chromium_matches_run_on_the_same_clip(tmp_path):
    if find_chromium() is None:
        pytest.fail("chromium is not installed: run `make setup` (scripts/setup.sh installs Debian's chromium)")
    clip, speakers = DEMO / "clip.wav", DEMO / "speakers.json"
    seconds = sf.info(str(clip)).duration
    out = subprocess.run([sys.executable, "-m", "mt2kd_edge.cli", "run", "--jsonl", "--backend", "onnx", "--model",
                          str(MODEL), "--speakers", str(speakers), str(clip)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    want = [json.loads(line) for line in out.stdout.splitlines()]

    flags = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
             f"--use-file-for-fake-audio-capture={clip}%noloop", "--autoplay-policy=no-user-gesture-required",
             "--window-size=1280,640"]
    with ServerProcess("--model", str(MODEL), "--speakers", str(speakers)) as server:
        browser = Browser(tmp_path / "profile", flags)
        try:
            browser.goto(f"{server.http}/?autostart=1&keep=1&seconds={seconds}")
            try:
                browser.wait_for("['done', 'error'].includes(window.mt2kd && window.mt2kd.state)", seconds + 90)
            finally:
                shot = browser.screenshot(tmp_path / "serve_demo.png")
                if os.environ.get("MT2KD_TEST_ARTIFACTS"):  # e.g. CI keeps it; the README's is made this way
                    shutil.copy(shot, os.environ["MT2KD_TEST_ARTIFACTS"])
                print(f"screenshot: {shot}")
            page = browser.evaluate(PAGE_STATE)
            sent = browser.evaluate("window.mt2kd.sentAudio()")
        finally:
            browser.close()
        log = server.stop()
    assert page["state"] == "done", f"{page['error']}\n{''.join(browser.log)[-3000:]}\n{log[-2000:]}"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert " fault " not in log, log

    # 1. exactly what the server makes of the audio the page sent
    audio = np.frombuffer(base64.b64decode(sent["base64"]), "<f4")
    assert sent["rate"] == page["sampleRate"] and len(audio) == round(seconds * sent["rate"])
    engine = Engine.from_dir(MODEL, backend="onnx", speakers=speakers)
    exact = [e.as_json() for e in engine.events(np.split(audio, np.cumsum(sent["pieces"])[:-1]), sent["rate"])]
    assert [(f["speaker"], f["start_ms"], f["end_ms"], f["text"]) for f in page["finals"]] == [
        (e["speaker"] or "unknown", e["start_ms"], e["end_ms"], e["text"]) for e in exact if e["type"] == "final"]
    assert [(t["speaker"], t["start_ms"], t["end_ms"], t["score"]) for t in page["turns"]] == [
        (e["name"] or "unknown", e["start_ms"], e["end_ms"], e["score"]) for e in exact if e["type"] == "speaker"]
    assert sorted((t["label"], t["start_ms"], t["end_ms"], t["score"]) for t in page["tags"]) == sorted(
        (e["label"], e["start_ms"], e["end_ms"], e["score"]) for e in exact if e["type"] == "tag")  # rows by label

    # 2. the audio the page captured is the clip, window by window: a glitch of Chromium's fake capture on a
    # busy machine (a dropped or repeated buffer) shifts what follows it by a few ms, which would sink one
    # correlation over the whole clip (CI once saw 0.46 that way) but leaves each window aligned on its own
    clip_audio, clip_rate = read_audio(clip)
    g = np.gcd(clip_rate, sent["rate"])
    captured = resample_poly(audio, clip_rate // g, sent["rate"] // g).astype(np.float32)
    lags, correlations = aligned_windows(captured, clip_audio, clip_rate)
    well = float(np.mean(correlations >= MIN_WINDOW_CORRELATION))
    print(f"captured audio: {len(lags)} voiced windows, median lag {np.median(lags) / clip_rate * 1000:+.1f} ms "
          f"(all within {np.abs(lags).max() / clip_rate * 1000:.1f} ms), median correlation {np.median(correlations):.3f}, "
          f"{well:.0%} of windows >= {MIN_WINDOW_CORRELATION}")
    assert len(lags) >= 10 and np.abs(lags).max() <= MAX_LAG_S * clip_rate, lags
    assert well >= MIN_WELL_ALIGNED, (well, correlations)

    # 3. within tolerances of `run` on the clip file

    finals = [e for e in want if e["type"] == "final"]
    score_of = {(e["start_ms"], e["end_ms"]): e["score"] for e in want if e["type"] == "speaker"}
    # the same segments, except one endpoint that only one of the two captures reaches: with blank runs alone
    # ending a segment that has words, the weak bundled model's pause in a turn gap can be borderline (seen:
    # the file's second gap ended its segment, the browser's resampled capture did not)
    assert len(finals) >= 1 and abs(len(page["finals"]) - len(finals)) <= 1, (page["finals"], finals)
    matched = [(got, ref) for got in page["finals"] for ref in finals if close_in_time(got, ref)]
    assert len(matched) >= min(len(page["finals"]), len(finals)) - 1, (page["finals"], finals)

    def speaker_agrees(got: dict, ref_name: str | None, ref: dict) -> bool:
        if same_speaker(got["speaker"], ref_name, score_of[ref["start_ms"], ref["end_ms"]]):
            return True
        other_span = (got["start_ms"], got["end_ms"]) != (ref["start_ms"], ref["end_ms"])
        return other_span and got["speaker"] in names_near_best(engine, clip_audio, clip_rate, got)

    for got, ref in matched:
        assert speaker_agrees(got, ref["speaker"], ref), (got, ref)
    for got in page["finals"]:
        assert got["speaker"] in got["shown"] and got["text"] in got["shown"]
    similarity = difflib.SequenceMatcher(None, " ".join(f["text"] for f in page["finals"]),
                                         " ".join(f["text"] for f in finals)).ratio()
    print(f"transcript similarity to run: {similarity:.2f}")
    assert similarity >= MIN_TEXT_SIMILARITY, (similarity, page["finals"], finals)

    turns = [e for e in want if e["type"] == "speaker"]  # a speaker turn per segment: the same allowance
    assert abs(len(page["turns"]) - len(turns)) <= 1, (page["turns"], turns)
    matched = [(got, ref) for got in page["turns"] for ref in turns if close_in_time(got, ref)]
    assert len(matched) >= min(len(page["turns"]), len(turns)) - 1, (page["turns"], turns)
    for got, ref in matched:
        assert speaker_agrees(got, ref["name"], ref), (got, ref)
        if (got["start_ms"], got["end_ms"]) != (ref["start_ms"], ref["end_ms"]):  # other audio: its own span's score
            if got["speaker"] != "unknown":
                own = span_scores(engine, clip_audio, clip_rate, got)[got["speaker"]]
                assert abs(got["score"] - own) <= SCORE_TOLERANCE, (got, ref, own)
        elif got["speaker"] == (ref["name"] or "unknown"):  # the same name's score; another name's is not comparable
            assert abs(got["score"] - ref["score"]) <= SCORE_TOLERANCE, (got, ref)
    assert page["speaker"].startswith(page["turns"][-1]["speaker"])

    tags = [e for e in want if e["type"] == "tag"]
    # every confident tag event of a sound the clip really has (demo.json's events, and speech) is in both
    # captures: same label, overlapping in time. The false tags the weak bundled model fires on the demo's
    # speech and piano (instruments, animals) may be in one alone: between the file and the browser's
    # resampled capture their scores swing by 0.2-0.35 (session 9: Drum kit 0.88 in `run`, 0.66 on the page;
    # session 10: Drum kit 0.86 in `run`, not on the page). Exactness is step 1's job, on the same audio.
    real_labels = {e["label"] for e in json.loads((DEMO / "demo.json").read_text())["events"]} | {"Speech"}
    def brief(events):
        return [(t["label"], t["start_ms"], t["end_ms"], t["score"]) for t in events]
    for event, others in [(t, page["tags"]) for t in tags] + [(t, tags) for t in page["tags"]]:
        assert event["label"] not in real_labels or event["score"] < CONFIDENT_TAG_SCORE or any(
            o["label"] == event["label"] and o["start_ms"] < event["end_ms"] and event["start_ms"] < o["end_ms"]
            for o in others), (brief([event]), "page:", brief(page["tags"]), "run:", brief(tags))
    assert len(page["bars"]) == 3  # the rolling top tags
