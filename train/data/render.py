"""Render one planned item to ``<id>.flac`` plus a ``<id>.json`` sidecar; runs in worker processes.

The sidecar is written last and atomically, so its presence means the item is complete: a resumed
build skips exactly the items that have one. It carries a hash of the planned item, so an item whose
plan has changed since (a new preset, new voices) is rendered again rather than kept stale. A speech
item that fails the transcript check gets a sidecar with ``dropped`` (the reason) and no audio.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from mt2kd_edge.fileio import atomic_write

from . import transcript_check
from .effects import TELEPHONE_CODECS, SAMPLE_RATE, change_speed, mix_at_snr, random_channel, set_level, trim_silence
from .events import load_real, render_instrument, render_procedural
from .plan import output_path
from .voices import Speaker, synthesise

MAX_EVENT_S = 6.0  # event clips are cropped to this; tagging targets are clip-level
MIN_EVENT_S = 0.5  # shorter sounds (a click, a gunshot) are padded with silence: a room tail can fill it


P_BACKGROUND = 0.3  # share of speech with a real recording playing under it
BACKGROUNDS_FILE = "backgrounds.json"  # event split -> real recordings that may play under speech (build.py)


@lru_cache(maxsize=2)
def _backgrounds(path: str, mtime_ns: int) -> dict[str, list[str]]:
    return json.loads(Path(path).read_text())


def _draw_background(out_dir: Path, split: str, rng: np.random.Generator) -> str | None:
    """A real recording from the event split that matches ``split`` (test speech only hears test files)."""
    path = out_dir / BACKGROUNDS_FILE
    if not path.exists():
        return None
    pool = _backgrounds(str(path), path.stat().st_mtime_ns)["test" if split == "test" else "train"]
    return pool[int(rng.integers(len(pool)))] if pool else None


def plan_hash(item: dict) -> str:
    return hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()[:16]


def read_sidecar(out_dir: Path, item: dict) -> dict | None:
    """The item's sidecar if it is complete and was rendered from this very plan, else None."""
    path = output_path(out_dir, item, ".json")
    try:
        meta = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if meta.get("plan_hash") != plan_hash(item):
        return None
    if not meta.get("dropped") and not output_path(out_dir, item, ".flac").exists():
        return None
    return meta


def is_done(out_dir: Path, item: dict) -> bool:
    return read_sidecar(out_dir, item) is not None


def _usable_speech(out_dir: Path, split: str, candidates: list[str]) -> str:
    """The first candidate utterance that was rendered and kept (the transcript check drops some)."""
    for item_id in candidates:
        path = output_path(out_dir, {"kind": "speech", "split": split, "id": item_id}, ".json")
        if path.exists() and not json.loads(path.read_text()).get("dropped") and path.with_suffix(".flac").exists():
            return item_id
    raise RuntimeError(f"none of the {len(candidates)} candidate utterances in {split} was kept")


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


def _speech(item: dict, rng: np.random.Generator, out_dir: Path) -> tuple[np.ndarray | None, dict]:
    audio = synthesise(Speaker(**item["speaker"]), item["text"], item["tempo"], seed=item["seed"])
    meta: dict = {"sources": [f"tts:{item['speaker']['speaker_id']}"]}
    if item["check"]:  # on the clean synthesis: the channel below is meant to be hard, the voice is not
        meta["check"] = transcript_check.check(audio, item["text"])
        if meta["check"]["wer"] > transcript_check.MAX_UTTERANCE_WER:
            meta["dropped"] = (f"transcript check: Whisper base WER {meta['check']['wer']:.2f} > "
                               f"{transcript_check.MAX_UTTERANCE_WER}")
            return None, meta
    background = None
    if rng.random() < P_BACKGROUND and (path := _draw_background(out_dir, item["split"], rng)):
        background = trim_silence(load_real(path))
        meta["sources"].append(path)
    audio, channel = random_channel(audio, rng, p_room=0.4, p_noise=0.2, p_mic=0.5, p_telephone=0.12,
                                    snr_db=(5.0, 30.0), noise_colours=("white", "pink", "brown"),
                                    background=background, p_background=1.0, background_snr_db=(0.0, 20.0),
                                    p_clip=0.04, p_drift=0.15, codecs=TELEPHONE_CODECS)
    level = float(rng.uniform(-40, -16))  # far-field talkers and close ones
    meta["augment"] = {**channel, "level_dbfs": round(level, 2)}
    return set_level(audio, level), meta


def _event(item: dict, rng: np.random.Generator, out_dir: Path) -> tuple[np.ndarray, dict]:
    seconds = float(rng.uniform(1.5, 5.0))
    extra: dict = {}
    if item["generator"] == "real":
        audio = trim_silence(load_real(item["source"]))
    elif item["generator"] == "speech_corpus":
        item = {**item, "source": _usable_speech(out_dir, item["split"], item["candidates"])}
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
    if base_kind == "speech":
        item = {**item, "base": {**item["base"], "id": _usable_speech(out_dir, item["split"], item["base"]["candidates"])}}
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
            audio, meta = _speech(item, rng, out)
        elif item["kind"] == "event":
            audio, meta = _event(item, rng, out)
        else:
            audio, meta = _mixture(item, rng, out)
    except Exception as err:
        raise RuntimeError(f"rendering {item['kind']} item {item['id']} failed: {err}") from err
    sidecar = {**{k: v for k, v in item.items() if k != "seed"}, "seed": item["seed"], **meta,
               "plan_hash": plan_hash(item)}
    if audio is None:  # dropped: the sidecar records why, and there is no audio
        output_path(out, item, ".flac").unlink(missing_ok=True)
        sidecar.update(num_samples=0, duration_s=0.0)
    else:
        if len(audio) < SAMPLE_RATE // 10:
            raise RuntimeError(f"item {item['id']} rendered only {len(audio)} samples")
        with atomic_write(output_path(out, item, ".flac")) as f:
            sf.write(f, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        sidecar.update(num_samples=len(audio), duration_s=round(len(audio) / SAMPLE_RATE, 4))
    with atomic_write(output_path(out, item, ".json"), "w") as f:
        json.dump(sidecar, f, sort_keys=True)
    return item["id"]
