"""The corpus build, start to finish: dependencies, plan, render (in parallel, resumable), manifests, stats."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.labels_csv import write_labels_csv

from . import deps
from .events import CLASSES, find_real_sources
from .layout import LABELS, TRIALS
from .manifests import load_sidecars, write_manifests, write_pool, write_trials
from .plan import background_sources, plan_events, plan_extra_speakers, plan_extra_speech, plan_mixtures, plan_speech, plan_hash_order, split_real_sources, split_sentences
from .presets import CorpusPreset
from .real_dev import build_real_dev
from .render import BACKGROUNDS_FILE, is_done, read_sidecar, render_item
from .stats import compute_stats, write_stats
from .text import read_corpus_sentences
from .transcript_check import MAX_SPEAKER_WER
from .voices import make_extra_speakers, make_speakers

DEFAULT_CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mt2kd-edge" / "corpus-sources"


def check_out_dir(out_dir: Path) -> None:
    """Fail early, with a clear message, when the output folder cannot be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise SystemExit(f"error: cannot write to output folder {out_dir}: {err.strerror or err}") from None


def ensure_dependencies(preset: CorpusPreset, cache_dir: Path) -> dict[str, Path]:
    """Install or fetch everything; returns the unpacked data packages by name."""
    installed = deps.ensure_apt_packages()
    if installed:
        print(f"apt-get installed: {' '.join(installed)}")
    installed = deps.ensure_pip_packages()
    if installed:
        print(f"pip installed: {' '.join(installed)}")
    extracted = {}
    for package in tqdm(preset.deb_packages, desc="data packages", unit="pkg", leave=False):
        extracted[package] = deps.ensure_deb_data(package, cache_dir)
    return extracted


def make_plan(preset: CorpusPreset, seed: int, extracted: dict[str, Path]) -> tuple[list[dict], list[dict], list[dict]]:
    # One generator per planning step, so changing one preset field leaves the others' draws alone.
    rngs = [np.random.default_rng([seed, i]) for i in range(8)]
    sentences = read_corpus_sentences()
    by_split = split_sentences(sentences, preset.heldout_sentences, rngs[0])
    speakers = make_speakers(preset, rngs[1])
    split_sources = split_real_sources(find_real_sources(extracted))
    speech = plan_speech(preset, speakers, sentences, by_split, seed, rngs[2])
    events = plan_events(preset, split_sources, speech, seed, rngs[3])
    mixtures = plan_mixtures(preset, events, speech, seed, rngs[4])
    speech += plan_extra_speech(preset, speakers, sentences, by_split, speech, seed, rngs[5])  # after the events
    new_speakers = make_extra_speakers(preset, speakers, rngs[6])
    speech += plan_extra_speakers(preset, new_speakers, sentences, by_split, seed, rngs[7])
    return speech, events, mixtures, background_sources(split_sources)


def render_all(items: list[dict], out_dir: Path, workers: int, desc: str) -> int:
    """Render the items not yet complete, on ``workers`` processes. Returns how many were rendered.

    Items go out in a fixed shuffled order, so every voice family progresses together and an
    interrupted build holds a bit of everything."""
    todo = plan_hash_order([it for it in items if not is_done(out_dir, it)])
    if not todo:
        return 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(render_item, it, str(out_dir)) for it in todo]
        try:
            for fut in tqdm(as_completed(futures), total=len(items), desc=desc, unit="item",
                            initial=len(items) - len(todo), dynamic_ncols=True):
                fut.result()  # re-raises a worker's error with the item id in it
        except BaseException:
            # report at once: leaving the `with` would first render the rest of the queue (once 30 min)
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return len(todo)


LIMITED_CANDIDATES = 4  # an event or mixture's fallback utterances that a limited build renders


def limit_speech(speech: list[dict], events: list[dict], mixtures: list[dict], limit: int,
                 offset: int = 0) -> list[dict]:
    """At most ``limit`` of the (non-audition) speech items, for a corpus sized to the time at hand: the
    held-out sets first (so every evaluation set is whole), then the utterances events and mixtures are
    built on, then training utterances in the plan's hash order (a uniform sample of speakers and families,
    and a subset of what a full build renders, so a later build without the limit only adds to it).

    ``offset`` starts that fill at the offset-th utterance of the hash order (wrapping round), so that
    successive limited builds on fresh machines render different training utterances, not the same
    prefix again: a model continued from the last bundle then meets sentences it has not seen. The
    held-out sets and the event bases do not move."""
    # the first few candidates, not only the first: the transcript check may drop one, and the render takes the
    # next (four all dropped: ~1e-4 per clip at the default check rates)
    bases = {c for it in events if it.get("generator") == "speech_corpus" for c in it["candidates"][:LIMITED_CANDIDATES]}
    bases |= {c for it in mixtures if it["base"]["kind"] == "speech"
              for c in it["base"]["candidates"][:LIMITED_CANDIDATES]}
    ordered = plan_hash_order(speech)
    first = [it for it in ordered if it["split"] != "train"] + [it for it in ordered if it["split"] == "train" and it["id"] in bases]
    if len(first) > limit:  # cutting these would fail the events and mixtures built on them, after hours of rendering
        raise ValueError(f"--speech-limit {limit} is below the {len(first)} utterances the held-out sets and the "
                         f"event and mixture clips need: use at least {len(first)}")
    chosen = {it["id"] for it in first}
    offset %= max(1, len(ordered))
    for it in ordered[offset:] + ordered[:offset]:
        if len(chosen) >= limit:
            break
        chosen.add(it["id"])
    return [it for it in speech if it["id"] in chosen]


def judge_speakers(out_dir: Path, speech: list[dict]) -> dict[str, dict]:
    """speaker id -> {"audition_wer", "kept"}: a speaker whose auditions Whisper cannot read is dropped.

    The audition WER is over all audition words together, so one short sentence with one slip
    (4 words, WER 0.25) does not sink a speaker on its own."""
    errors: dict[str, list[float]] = {}
    for item in speech:
        if item["audition"] and is_done(out_dir, item):
            words = len(item["text"].split())
            tally = errors.setdefault(item["speaker"]["speaker_id"], [0.0, 0])
            tally[0] += read_sidecar(out_dir, item)["check"]["wer"] * words
            tally[1] += words
    return {spk: {"audition_wer": round(e / n, 4), "kept": bool(e / n <= MAX_SPEAKER_WER)}
            for spk, (e, n) in sorted(errors.items())}


class PartTimes:
    """Seconds and items rendered per part of the build, summed over every run that resumed it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts: dict[str, dict] = json.loads(path.read_text()) if path.exists() else {}

    def run(self, name: str, items: list[dict], out_dir: Path, workers: int) -> int:
        start = time.monotonic()
        rendered = render_all(items, out_dir, workers, name)
        part = self.parts.setdefault(name, {"seconds": 0.0, "rendered_items": 0})
        part["seconds"] = round(part["seconds"] + time.monotonic() - start, 1)
        part["rendered_items"] += rendered
        part["items"] = len(items)
        with atomic_write(self.path, "w") as f:
            json.dump(self.parts, f, indent=2)
        return rendered


def build(preset: CorpusPreset, out_dir: Path, seed: int = 0, workers: int = 2,
          cache_dir: Path = DEFAULT_CACHE_DIR, render: bool = True, speech_limit: int | None = None,
          speech_offset: int = 0) -> dict:
    """Build (or finish building) the corpus under ``out_dir``. Returns the statistics.

    ``render=False`` writes manifests and stats from the items rendered so far (a partial corpus, marked
    so in stats.json), e.g. to measure or smoke-test training while a long build is paused.
    ``speech_limit`` renders at most that many speech utterances beyond the auditions (``limit_speech``),
    then the events and mixtures in full: a complete-looking but smaller corpus, also marked partial;
    ``speech_offset`` picks where in the plan its training utterances start (``limit_speech``)."""
    out_dir = out_dir.resolve()
    check_out_dir(out_dir)
    extracted = ensure_dependencies(preset, cache_dir)
    speech, events, mixtures, backgrounds = make_plan(preset, seed, extracted)
    with atomic_write(out_dir / BACKGROUNDS_FILE, "w") as f:  # read by the speech workers
        json.dump(backgrounds, f, indent=1)
    times = PartTimes(out_dir / "build_times.json")
    start = time.monotonic()
    # 1. every speaker's auditions; 2. the rest of the speakers Whisper can read; 3. events; 4. mixtures
    run = times.run if render else lambda name, items, out, workers: 0
    rendered = run("speech auditions", [it for it in speech if it["audition"]], out_dir, workers)
    verdicts = judge_speakers(out_dir, speech)
    planned_speech = speech
    speech = [it for it in speech if verdicts.get(it["speaker"]["speaker_id"], {"kept": True})["kept"]]
    rest = [it for it in speech if not it["audition"]]
    limited = speech_limit is not None and len(rest) > speech_limit
    if limited:
        rest = limit_speech(rest, events, mixtures, speech_limit, speech_offset)
        speech = [it for it in speech if it["audition"]] + rest
    rendered += run("speech", rest, out_dir, workers)
    rendered += run("event clips", events, out_dir, workers)  # some read rendered speech
    rendered += run("mixtures", mixtures, out_dir, workers)  # read both
    render_s = time.monotonic() - start
    if not render:  # what is there so far
        speech, events, mixtures = ([it for it in items if is_done(out_dir, it)] for items in (speech, events, mixtures))

    kept = [it for it in speech if not read_sidecar(out_dir, it).get("dropped")]
    speech_meta = {s: load_sidecars(out_dir, [it for it in kept if it["split"] == s]) for s in ("train", "dev", "test")}
    event_meta = {s: load_sidecars(out_dir, [it for it in events + mixtures if it["split"] == s]) for s in ("train", "test")}
    for split, metas in speech_meta.items():
        write_manifests(out_dir, "speech", split, metas)
    for split, metas in event_meta.items():
        write_manifests(out_dir, "events", split, metas)
    write_pool(out_dir, speech_meta["train"] + event_meta["train"])
    write_labels_csv(out_dir / LABELS, [(c.mid, c.name) for c in CLASSES])  # the tagger's classes
    trials = write_trials(out_dir / TRIALS, speech_meta["test"], preset.sv_trials, seed)

    real_dev = build_real_dev(out_dir, cache_dir)  # recorded speech, evaluation only (split realdev)

    build_info = {"preset": preset.name, "seed": seed, "workers": workers, "render_seconds": round(render_s, 1),
                  "rendered_items": rendered, "complete": render and not limited, "config": asdict(preset),
                  **({"speech_limit": speech_limit, "speech_offset": speech_offset} if limited else {})}
    checked = [meta for it in planned_speech if it["check"] and (meta := read_sidecar(out_dir, it))]
    stats = compute_stats(speech_meta, event_meta, build_info, checks=checked, verdicts=verdicts, parts=times.parts)
    stats["sv_trials"] = trials
    stats["realdev"] = {k: v for k, v in real_dev.items() if k not in ("manifests", "dropped")}
    write_stats(out_dir, stats)
    with atomic_write(out_dir / "build.json", "w") as f:
        json.dump({k: v for k, v in build_info.items() if k not in ("render_seconds", "rendered_items")}, f, indent=2)
    return stats
