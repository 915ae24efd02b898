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

from . import deps
from .events import find_real_sources
from .manifests import load_sidecars, write_labels_csv, write_manifests, write_pool, write_trials
from .plan import plan_events, plan_mixtures, plan_speech, split_sentences
from .presets import CorpusPreset
from .render import is_done, render_item
from .stats import compute_stats, write_stats
from .text import read_fortune_sentences
from .voices import make_speakers

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
    rngs = [np.random.default_rng([seed, i]) for i in range(5)]
    sentences = read_fortune_sentences()
    by_split = split_sentences(sentences, preset.heldout_sentences, rngs[0])
    speakers = make_speakers(preset.espeak_train_speakers, preset.espeak_heldout_speakers, preset.pitch_variants, rngs[1])
    if len({s.speaker_id for s in speakers}) != len(speakers):
        raise RuntimeError("speaker ids collide")
    speech = plan_speech(preset, speakers, sentences, by_split, seed, rngs[2])
    events = plan_events(preset, find_real_sources(extracted), speech, seed, rngs[3])
    mixtures = plan_mixtures(preset, events, speech, seed, rngs[4])
    return speech, events, mixtures


def render_all(items: list[dict], out_dir: Path, workers: int, desc: str) -> int:
    """Render the items not yet complete, on ``workers`` processes. Returns how many were rendered."""
    todo = [it for it in items if not is_done(out_dir, it)]
    if not todo:
        return 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(render_item, it, str(out_dir)) for it in todo]
        for fut in tqdm(as_completed(futures), total=len(futures), desc=desc, unit="item",
                        initial=len(items) - len(todo), dynamic_ncols=True):
            fut.result()  # re-raises a worker's error with the item id in it
    return len(todo)


def build(preset: CorpusPreset, out_dir: Path, seed: int = 0, workers: int = 2,
          cache_dir: Path = DEFAULT_CACHE_DIR) -> dict:
    """Build (or finish building) the corpus under ``out_dir``. Returns the statistics."""
    out_dir = out_dir.resolve()
    check_out_dir(out_dir)
    extracted = ensure_dependencies(preset, cache_dir)
    speech, events, mixtures = make_plan(preset, seed, extracted)
    start = time.monotonic()
    rendered = render_all(speech, out_dir, workers, "speech")
    rendered += render_all(events, out_dir, workers, "event clips")  # some read rendered speech
    rendered += render_all(mixtures, out_dir, workers, "mixtures")  # read both
    render_s = time.monotonic() - start

    speech_meta = {s: load_sidecars(out_dir, [it for it in speech if it["split"] == s]) for s in ("train", "dev", "test")}
    event_meta = {s: load_sidecars(out_dir, [it for it in events + mixtures if it["split"] == s]) for s in ("train", "test")}
    for split, metas in speech_meta.items():
        write_manifests(out_dir, "speech", split, metas)
    for split, metas in event_meta.items():
        write_manifests(out_dir, "events", split, metas)
    write_pool(out_dir, speech_meta["train"] + event_meta["train"])
    write_labels_csv(out_dir / "labels.csv")
    trials = write_trials(out_dir / "sv_trials.txt", speech_meta["test"], preset.sv_trials, seed)

    build_info = {"preset": preset.name, "seed": seed, "workers": workers, "render_seconds": round(render_s, 1),
                  "rendered_items": rendered, "config": asdict(preset)}
    stats = compute_stats(speech_meta, event_meta, build_info)
    stats["sv_trials"] = trials
    write_stats(out_dir, stats)
    with atomic_write(out_dir / "build.json", "w") as f:
        json.dump({k: v for k, v in build_info.items() if k not in ("render_seconds", "rendered_items")}, f, indent=2)
    return stats
