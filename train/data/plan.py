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


def item_seed(seed: int, item_id: str) -> int:
    """A per-item seed: items render the same alone, in any order, on any worker."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{item_id}".encode()).digest()[:8], "little")


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-").replace("--", "-")


def split_sentences(sentences: list[str], num_heldout: int, rng: np.random.Generator) -> dict[str, list[int]]:
    """Sentence indices per split: dev and test share the held-out set, train never sees it."""
    order = rng.permutation(len(sentences))
    heldout = order[:num_heldout]
    return {"train": sorted(order[num_heldout:].tolist()), "dev": sorted(heldout[: num_heldout // 2].tolist()),
            "test": sorted(heldout[num_heldout // 2:].tolist())}


def plan_speech(preset: CorpusPreset, speakers: list[Speaker], sentences: list[str], by_split: dict[str, list[int]],
                seed: int, rng: np.random.Generator) -> list[dict]:
    items = []

    def add(speaker: Speaker, split: str, sentence_ids: np.ndarray) -> None:
        for sid in sorted(int(s) for s in sentence_ids):
            item_id = f"{speaker.speaker_id}-s{sid:05d}"
            items.append({"kind": "speech", "id": item_id, "split": split, "seed": item_seed(seed, item_id),
                          "speaker": speaker.to_dict(), "sentence_id": sid, "text": sentences[sid],
                          "tempo": round(float(rng.uniform(0.88, 1.12)), 3)})

    train_speakers = [s for s in speakers if not s.heldout]
    for spk in speakers:
        split = "test" if spk.heldout else "train"
        count = (preset.utts_per_heldout_speaker if spk.heldout else
                 preset.utts_per_real_speaker if spk.real else preset.utts_per_espeak_speaker)
        pool = by_split[split]
        add(spk, split, rng.choice(pool, size=min(count, len(pool)), replace=False))
    dev_pairs = set()
    for _ in range(preset.dev_utts):  # unseen sentences read by seen speakers
        pair = (int(rng.integers(len(train_speakers))), int(rng.choice(by_split["dev"])))
        if pair not in dev_pairs:
            dev_pairs.add(pair)
            add(train_speakers[pair[0]], "dev", np.array([pair[1]]))
    return items


def _split_files(files: list[str], rng: np.random.Generator, name: str) -> dict[str, list[str]]:
    if len(files) < 2:
        raise RuntimeError(f"class {name!r} has {len(files)} real source files; a train/test split needs 2+")
    files = [files[i] for i in rng.permutation(len(files))]
    num_test = max(1, round(TEST_SOURCE_FRACTION * len(files)))
    return {"test": files[:num_test], "train": files[num_test:]}


def plan_events(preset: CorpusPreset, real_sources: dict[str, list[str]], speech_items: list[dict], seed: int,
                rng: np.random.Generator) -> list[dict]:
    """Single-label clips for every class and split; Speech mixes real voice lines and corpus utterances."""
    corpus_speech = {"train": [it["id"] for it in speech_items if it["split"] == "train"],
                     "test": [it["id"] for it in speech_items if it["split"] == "test"]}
    items = []
    for cls in CLASSES:
        files = _split_files(real_sources[cls.name], rng, cls.name) if cls.kind == "real" else None
        for split in EVENT_SPLITS:
            count = preset.train_clips_per_class if split == "train" else preset.test_clips_per_class
            pool = files[split] if files else []
            for i in range(count):
                item_id = f"ev-{split}-{slug(cls.name)}-{i:04d}"
                item = {"kind": "event", "id": item_id, "split": split, "seed": item_seed(seed, item_id),
                        "label": cls.name, "generator": cls.kind}
                if cls.name == "Speech" and i % 2 == 1:  # every other Speech clip: a synthetic utterance
                    item.update(generator="speech_corpus", source=str(rng.choice(corpus_speech[split])))
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
                base = {"kind": "speech", "id": str(rng.choice([u["id"] for u in utterances]))}
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
