"""The build plan: every output item as a small dict, drawn deterministically from the seed.

Planning needs no audio, so the plan of an interrupted build is the plan of the finished one, and a
resumed build renders exactly the items whose files are missing.
Split guarantees are made here:
- speech ``train`` uses training speakers and training sentences only; ``dev`` pairs training speakers
  with held-out sentences; ``test`` pairs held-out speakers with held-out sentences;
- event ``test`` clips and mixtures use only sources (files or generator seeds) that no training clip uses.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .events import CLASSES, INSTRUMENTS
from .presets import CorpusPreset
from .voices import Speaker

TEST_SOURCE_FRACTION = 0.2  # share of a real class's files kept for test clips (at least one)
SPEECH_SPLITS = ("train", "dev", "test")
EVENT_SPLITS = ("train", "test")
BACKGROUND_CLASSES = ("Water", "Fire", "Bird", "Walk, footsteps", "White noise", "Pink noise", "Tools")
VOCAL_CLASSES = ("Speech", "Screaming", "Laughter", "Grunt", "Crowd")  # voices: never a background under speech
SPEECH_CANDIDATES = 8  # utterances an event or mixture may fall back on when one was dropped by the check


def item_seed(seed: int, item_id: str) -> int:
    """A per-item seed: items render the same alone, in any order, on any worker."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:8], "little")


def plan_hash_order(items: list[dict]) -> list[dict]:
    """A fixed pseudo-random order (by each item's seed): families and splits interleave."""
    return sorted(items, key=lambda it: (it["seed"], it["id"]))


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-").replace("--", "-")


def split_sentences(sentences: list[str], num_heldout: int, rng: np.random.Generator) -> dict[str, list[int]]:
    """Sentence indices per split: dev and test share the held-out set, train never sees it."""
    order = rng.permutation(len(sentences))
    heldout = order[:num_heldout]
    return {"train": sorted(order[num_heldout:].tolist()), "dev": sorted(heldout[: num_heldout // 2].tolist()),
            "test": sorted(heldout[num_heldout // 2:].tolist())}


def _speech_item(speaker: Speaker, split: str, sid: int, sentences: list[str], audition: bool, check: bool,
                 seed: int, rng: np.random.Generator) -> dict:
    item_id = f"{speaker.speaker_id}-s{sid:05d}"
    return {"kind": "speech", "id": item_id, "split": split, "seed": item_seed(seed, item_id),
            "speaker": speaker.to_dict(), "family": speaker.family, "sentence_id": sid,
            "text": sentences[sid], "tempo": round(float(rng.uniform(0.92, 1.08)), 3),
            "audition": audition, "check": check}


def _reads(preset: CorpusPreset, speaker: Speaker, split: str, sentence_ids, audition: int, sentences: list[str],
           seed: int, rng: np.random.Generator) -> list[dict]:
    """``speaker`` reading ``sentence_ids`` in order: the first ``audition`` are its auditions, and every audition
    and held-out utterance is checked, a training one with its system's check fraction."""
    items = []
    for n, sid in enumerate(sentence_ids):
        is_audition = n < audition
        check = is_audition or split != "train" or bool(rng.random() < preset.check_fraction(speaker.system))
        items.append(_speech_item(speaker, split, int(sid), sentences, is_audition, check, seed, rng))
    return items


def plan_speech(preset: CorpusPreset, speakers: list[Speaker], sentences: list[str], by_split: dict[str, list[int]],
                seed: int, rng: np.random.Generator) -> list[dict]:
    """Every utterance: who reads which sentence at which tempo, and whether Whisper checks it.
    (The real recording that may play under it is drawn at render time, from ``backgrounds.json``,
    so that changing the event rules does not change the speech plan.)"""
    items = []

    def add(speaker: Speaker, split: str, sentence_ids: list[int], audition: int) -> None:
        items.extend(_reads(preset, speaker, split, sentence_ids, audition, sentences, seed, rng))

    train_speakers = [s for s in speakers if not s.heldout]
    for spk in speakers:
        split = "test" if spk.heldout else "train"
        pool = by_split[split]
        count = min(preset.utts_per_speaker(spk.system, spk.heldout), len(pool))
        chosen = [int(s) for s in rng.choice(pool, size=count, replace=False)]  # audition first: keep draw order
        add(spk, split, chosen, preset.audition_utts)
    dev_pairs = set()
    for _ in range(preset.dev_utts):  # unseen sentences read by seen speakers
        pair = (int(rng.integers(len(train_speakers))), int(rng.choice(by_split["dev"])))
        if pair not in dev_pairs:
            dev_pairs.add(pair)
            add(train_speakers[pair[0]], "dev", [pair[1]], 0)
    return items


def plan_extra_speech(preset: CorpusPreset, speakers: list[Speaker], sentences: list[str],
                      by_split: dict[str, list[int]], planned: list[dict], seed: int,
                      rng: np.random.Generator) -> list[dict]:
    """``preset.extra_train_utts``: more training sentences for each training speaker of those systems, none
    of which the speaker already reads. Planned last, on their own generator, so that no earlier item (nor
    any event or mixture drawn from the speech plan) changes when a preset grows."""
    read: dict[str, set[int]] = {}
    for it in planned:
        read.setdefault(it["speaker"]["speaker_id"], set()).add(it["sentence_id"])
    items = []
    for spk in speakers:
        extra = 0 if spk.heldout else preset.extra_utts(spk.system)
        if not extra:
            continue
        pool = [s for s in by_split["train"] if s not in read.get(spk.speaker_id, set())]
        for sid in rng.choice(pool, size=min(extra, len(pool)), replace=False):
            check = bool(rng.random() < preset.check_fraction(spk.system))
            items.append(_speech_item(spk, "train", int(sid), sentences, False, check, seed, rng))
    return items


def plan_extra_speakers(preset: CorpusPreset, speakers: list[Speaker], sentences: list[str],
                        by_split: dict[str, list[int]], seed: int, rng: np.random.Generator) -> list[dict]:
    """``preset.extra_train_speakers``: each new training speaker reads its share of training sentences,
    auditions first (checked, as every speaker's are), on a generator of its own."""
    reads = {system: each for system, _, each in preset.extra_train_speakers}
    items = []
    for spk in speakers:
        chosen = rng.choice(by_split["train"], size=min(reads[spk.system], len(by_split["train"])), replace=False)
        items += _reads(preset, spk, "train", chosen, preset.audition_utts, sentences, seed, rng)
    return items


def split_real_sources(real_sources: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """class -> {"train": files, "test": files}: a recording is in one split only."""
    return {name: _split_files(files, name) for name, files in sorted(real_sources.items())}


def background_sources(split_sources: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
    """Real recordings that may play under speech, per event split: no voices (they would be unlabelled words)."""
    return {split: sorted(f for name, files in split_sources.items() if name not in VOCAL_CLASSES
                          for f in files[split]) for split in EVENT_SPLITS}


def _stable_key(path: str) -> str:
    """A file's hash key, independent of where the cache lives: its path inside its package."""
    inside = path[path.index("/usr/") + 1:] if "/usr/" in path else Path(path).name
    return hashlib.sha256(inside.encode()).hexdigest()


def _split_files(files: list[str], name: str) -> dict[str, list[str]]:
    """Test files are the first fifth in hash order: a file's split does not depend on the other
    files or on any draw, so it stays put when rules or packages change."""
    if len(files) < 2:
        raise RuntimeError(f"class {name!r} has {len(files)} real source files; a train/test split needs 2+")
    files = sorted(files, key=_stable_key)
    num_test = max(1, round(TEST_SOURCE_FRACTION * len(files)))
    return {"test": sorted(files[:num_test]), "train": sorted(files[num_test:])}


def plan_events(preset: CorpusPreset, split_sources: dict[str, dict[str, list[str]]], speech_items: list[dict],
                seed: int, rng: np.random.Generator) -> list[dict]:
    """Single-label clips for every class and split; Speech mixes real voice lines and corpus utterances."""
    corpus_speech = {"train": [it["id"] for it in speech_items if it["split"] == "train"],
                     "test": [it["id"] for it in speech_items if it["split"] == "test"]}
    items = []
    for cls in CLASSES:
        files = split_sources[cls.name] if cls.kind == "real" else None
        for split in EVENT_SPLITS:
            count = preset.train_clips_per_class if split == "train" else preset.test_clips_per_class
            pool = files[split] if files else []
            for i in range(count):
                item_id = f"ev-{split}-{slug(cls.name)}-{i:04d}"
                item = {"kind": "event", "id": item_id, "split": split, "seed": item_seed(seed, item_id),
                        "label": cls.name, "generator": cls.kind}
                if cls.name == "Speech" and i % 2 == 1:  # every other Speech clip: a synthetic utterance
                    picks = rng.choice(corpus_speech[split], size=min(SPEECH_CANDIDATES, len(corpus_speech[split])),
                                       replace=False)
                    item.update(generator="speech_corpus", source=str(picks[0]), candidates=[str(p) for p in picks])
                elif files:
                    item["source"] = pool[i % len(pool)]  # cycle, so every file is used before any repeats
                else:
                    item["source"] = f"{cls.kind}:{slug(cls.name)}:{item['seed']:016x}"  # one fresh seed per clip
                items.append(item)
    return items


def plan_mixtures(preset: CorpusPreset, event_items: list[dict], speech_items: list[dict], seed: int,
                  rng: np.random.Generator) -> list[dict]:
    """Multi-label clips: one or two events over a background clip, or over a speech utterance."""
    items = []
    for split, count in (("train", preset.train_mixtures), ("test", preset.test_mixtures)):
        clips = [it for it in event_items if it["split"] == split and it["label"] != "Speech"]
        backgrounds = [it for it in clips if it["label"] in BACKGROUND_CLASSES]
        utterances = [it for it in speech_items if it["split"] == split]
        for i in range(count):
            item_id = f"mix-{split}-{i:05d}"
            if i % 2 == 0:
                picks = rng.choice([u["id"] for u in utterances], size=min(SPEECH_CANDIDATES, len(utterances)),
                                   replace=False)
                base = {"kind": "speech", "id": str(picks[0]), "candidates": [str(p) for p in picks]}
                base_label = "Speech"
            else:
                b = backgrounds[int(rng.integers(len(backgrounds)))]
                base, base_label = {"kind": "event", "id": b["id"]}, b["label"]
            candidates = [c for c in clips if c["label"] != base_label]
            picked: list[dict] = []
            for _ in range(int(rng.integers(1, 3))):
                c = candidates[int(rng.integers(len(candidates)))]
                if all(c["label"] != p["label"] for p in picked):
                    picked.append(c)
            items.append({"kind": "mixture", "id": item_id, "split": split, "seed": item_seed(seed, item_id),
                          "base": base, "overlays": [p["id"] for p in picked]})
    return items


def output_path(out_dir: Path, item: dict, suffix: str) -> Path:
    group = {"speech": "speech", "event": "events", "mixture": "events"}[item["kind"]]
    return out_dir / "audio" / group / item["split"] / f"{item['id']}{suffix}"


assert set(INSTRUMENTS) <= {c.name for c in CLASSES}
