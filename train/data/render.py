"""Render one planned item to ``<id>.flac`` plus a ``<id>.json`` sidecar; runs in worker processes.

The sidecar is written last and atomically, so its presence means the item is complete: a resumed
build skips exactly the items that have one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from mt2kd_edge.fileio import atomic_write

from .effects import SAMPLE_RATE, change_speed, mix_at_snr, random_channel, set_level, trim_silence
from .events import load_real, render_instrument, render_procedural
from .plan import output_path
from .voices import Speaker, synthesise

MAX_EVENT_S = 6.0  # event clips are cropped to this; tagging targets are clip-level
MIN_EVENT_S = 0.5  # shorter sounds (a click, a gunshot) are padded with silence: a room tail can fill it


def is_done(out_dir: Path, item: dict) -> bool:
    return output_path(out_dir, item, ".json").exists() and output_path(out_dir, item, ".flac").exists()


def _read(out_dir: Path, kind: str, split: str, item_id: str) -> tuple[np.ndarray, dict]:
    ref = {"kind": kind, "split": split, "id": item_id}
    audio, _ = sf.read(output_path(out_dir, ref, ".flac"), dtype="float32")
    return audio, json.loads(output_path(out_dir, ref, ".json").read_text())


def _crop(x: np.ndarray, max_s: float, rng: np.random.Generator) -> np.ndarray:
    limit = int(max_s * SAMPLE_RATE)
    if len(x) <= limit:
        return x
    start = int(rng.integers(0, len(x) - limit))
    return x[start: start + limit]


def _speech(item: dict, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    audio = synthesise(Speaker(**item["speaker"]), item["text"], item["tempo"])
    audio, channel = random_channel(audio, rng, p_room=0.35, p_noise=0.35, p_mic=0.5, p_telephone=0.12,
                                    snr_db=(5.0, 30.0), noise_colours=("white", "pink", "brown"))
    level = float(rng.uniform(-32, -18))
    return set_level(audio, level), {"augment": {**channel, "level_dbfs": round(level, 2)},
                                     "sources": [f"tts:{item['speaker']['speaker_id']}"]}


def _event(item: dict, rng: np.random.Generator, out_dir: Path) -> tuple[np.ndarray, dict]:
    seconds = float(rng.uniform(1.5, 5.0))
    extra: dict = {}
    if item["generator"] == "real":
        audio = trim_silence(load_real(item["source"]))
    elif item["generator"] == "speech_corpus":
        audio, _ = _read(out_dir, "speech", item["split"], item["source"])
    elif item["generator"] == "instrument":
        audio, extra = render_instrument(item["label"], rng, seconds)
        audio = trim_silence(audio)
    else:
        audio, extra = render_procedural(item["label"], rng, seconds)
    audio = _crop(audio, MAX_EVENT_S, rng)
    audio = np.pad(audio, (0, max(0, int(MIN_EVENT_S * SAMPLE_RATE) - len(audio))))
    augment: dict = {}
    if rng.random() < 0.3:
        augment["speed"] = round(float(rng.uniform(0.9, 1.1)), 3)
        audio = change_speed(audio, augment["speed"])
    # Brown noise only: white or pink noise added here would be an unlabelled "White/Pink noise" event.
    audio, channel = random_channel(audio, rng, p_room=0.25, p_noise=0.3, p_mic=0.3, p_telephone=0.1,
                                    snr_db=(10.0, 30.0), noise_colours=("brown",))
    level = float(rng.uniform(-35, -15))
    augment.update(channel, level_dbfs=round(level, 2))
    return set_level(audio, level), {"labels": [item["label"]], "sources": [item["source"]],
                                     "generator_params": extra, "augment": augment,
                                     "events": [{"label": item["label"], "start_s": 0.0}]}


def _mixture(item: dict, rng: np.random.Generator, out_dir: Path) -> tuple[np.ndarray, dict]:
    base_kind = item["base"]["kind"]
    base, base_meta = _read(out_dir, base_kind, item["split"], item["base"]["id"])
    labels = ["Speech"] if base_kind == "speech" else list(base_meta["labels"])
    sources = list(base_meta["sources"])
    events = [{"label": lab, "start_s": 0.0, "end_s": round(len(base) / SAMPLE_RATE, 3), "item": item["base"]["id"]}
              for lab in labels]
    mix = base.copy()
    for overlay_id in item["overlays"]:
        clip, meta = _read(out_dir, "event", item["split"], overlay_id)
        clip = clip[: len(mix)]
        offset = int(rng.integers(0, len(mix) - len(clip) + 1))
        base_to_event_db = float(rng.uniform(-10, 10))  # negative: the event is louder than the background
        mix = mix_at_snr(mix, clip, base_to_event_db, offset)
        labels += [lab for lab in meta["labels"] if lab not in labels]
        sources += meta["sources"]
        events += [{"label": lab, "start_s": round(offset / SAMPLE_RATE, 3),
                    "end_s": round((offset + len(clip)) / SAMPLE_RATE, 3), "item": overlay_id,
                    "base_to_event_db": round(base_to_event_db, 2)} for lab in meta["labels"]]
    level = float(rng.uniform(-32, -18))
    return set_level(mix, level), {"labels": labels, "sources": sources, "events": events,
                                   "augment": {"level_dbfs": round(level, 2)}}


def render_item(item: dict, out_dir: str) -> str:
    """Render ``item`` unless it is already complete. Returns its id."""
    out = Path(out_dir)
    if is_done(out, item):
        return item["id"]
    rng = np.random.default_rng(item["seed"])
    try:
        if item["kind"] == "speech":
            audio, meta = _speech(item, rng)
        elif item["kind"] == "event":
            audio, meta = _event(item, rng, out)
        else:
            audio, meta = _mixture(item, rng, out)
    except Exception as err:
        raise RuntimeError(f"rendering {item['kind']} item {item['id']} failed: {err}") from err
    if len(audio) < SAMPLE_RATE // 10:
        raise RuntimeError(f"item {item['id']} rendered only {len(audio)} samples")
    with atomic_write(output_path(out, item, ".flac")) as f:
        sf.write(f, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    sidecar = {**{k: v for k, v in item.items() if k != "seed"}, "seed": item["seed"], **meta,
               "num_samples": len(audio), "duration_s": round(len(audio) / SAMPLE_RATE, 4)}
    with atomic_write(output_path(out, item, ".json"), "w") as f:
        json.dump(sidecar, f, sort_keys=True)
    return item["id"]
