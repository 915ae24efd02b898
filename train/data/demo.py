"""Demo material from a built corpus's held-out split: one short clip in which two different speakers
take turns over background sound events, plus separate enrollment utterances for each speaker.

    python -m train.data.demo --corpus data/corpus-default --out models/default/demo

Writes clip.wav (16 kHz, 16-bit), enroll/<name>_<k>.wav and demo.json (who speaks when, what they say,
which events play when), all atomically. Everything comes from the test split, so no speaker, sentence or
sound in the demo was seen in training.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from mt2kd_edge import model_layout as layout
from mt2kd_edge.fileio import atomic_write
from mt2kd_edge.spec import SAMPLE_RATE

from .effects import mix_at_snr, set_level
from .layout import manifest_path

# Two held-out voices of different people (see reports/corpus_default/stats.md): names are what the demo
# enrolls them as.
SPEAKERS = {"alan": "flite-awb-c+0-f1.00-r1.00", "ken": "festival-voice-ked-diphone-c+0-f1.00-r1.00"}
# Whose voice each default name is: when the transcript check dropped the default speaker, or a smaller
# preset did not render enough of it, the demo takes that person's held-out variant with the most short turns.
PERSONS = {"alan": "awb", "ken": "ked"}
TURNS = ("alan", "ken", "alan")  # who speaks, in order
GAP_S = 1.2  # silence between turns (events fill some of it)
EVENTS = (  # (label, where: turn index the event starts in or after, offset in s, SNR in dB against speech)
    ("Canidae, dogs, wolves", 0, -0.2, 6.0),
    ("Piano", 1, 0.5, 12.0),
    ("Siren", 2, 1.0, 10.0),
)


def _load(cut) -> np.ndarray:
    return cut.load_audio()[0].astype(np.float32)


def _short(cuts) -> list:
    return [c for c in cuts if c.duration <= 5.0]


def _default_speaker(name: str, by_speaker: dict[str, list], need: int) -> str:
    if len(_short(by_speaker.get(SPEAKERS[name], []))) >= need:
        return SPEAKERS[name]
    same_person = [s for s, cuts in by_speaker.items() if cuts[0].supervisions[0].custom.get("person") == PERSONS[name]]
    return max(same_person, key=lambda s: (len(_short(by_speaker[s])), s), default=SPEAKERS[name])


def build(corpus: Path, out: Path, seed: int = 0, speakers: dict[str, str] | None = None,
          turns: tuple[str, ...] = TURNS, enroll_per_speaker: int = 2) -> dict:
    """``speakers``: enrollment name -> corpus speaker id (default SPEAKERS); ``turns``: who speaks, in order."""
    from lhotse import CutSet

    speech = CutSet.from_file(manifest_path(corpus, "speech", "test"))
    events = CutSet.from_file(manifest_path(corpus, "events", "test"))
    rng = np.random.default_rng(seed)
    by_speaker: dict[str, list] = {}
    for cut in speech:
        by_speaker.setdefault(cut.supervisions[0].speaker, []).append(cut)
    if speakers is None:
        speakers = {name: _default_speaker(name, by_speaker, turns.count(name) + enroll_per_speaker)
                    for name in SPEAKERS}
    utterances = {}
    for name, speaker in speakers.items():
        need = turns.count(name) + enroll_per_speaker
        cuts = sorted((c for c in by_speaker.get(speaker, []) if c.duration <= 5.0), key=lambda c: c.id)
        if len(cuts) < need:
            raise ValueError(f"{corpus}: speaker {speaker} has {len(cuts)} test utterances of <= 5 s; need {need}")
        utterances[name] = [cuts[i] for i in rng.permutation(len(cuts))[:need]]

    used = {name: 0 for name in speakers}
    turn_cuts = []
    for name in turns:
        turn_cuts.append((name, utterances[name][used[name]]))
        used[name] += 1
    sounds = []
    for label, turn, offset_s, snr_db in EVENTS:
        clips = [c for c in events if c.supervisions[0].custom["labels"] == [label]]
        if not clips:
            raise ValueError(f"{corpus}: no held-out clip of {label!r}")
        sounds.append((clips[int(rng.integers(len(clips)))], turn, offset_s, snr_db))
    clip, placed_turns, placed = conversation(turn_cuts, sounds)

    enroll = {}
    for name in speakers:
        files = []
        for k, cut in enumerate(utterances[name][used[name]:], 1):
            path = out / layout.DEMO_ENROLL / f"{name}_{k}.wav"
            _write_wav(path, set_level(_load(cut), -24.0))
            files.append({"file": str(path.relative_to(out)), "cut": cut.id})
        enroll[name] = files
    _write_wav(out / layout.DEMO_CLIP, clip)
    info = {"corpus": str(corpus), "seed": seed, "seconds": round(len(clip) / SAMPLE_RATE, 2),
            "speakers": speakers, "turns": placed_turns, "events": placed, "enroll": enroll}
    with atomic_write(out / layout.DEMO_INFO, "w") as f:
        json.dump(info, f, indent=2)
    return info


def conversation(turns: list[tuple[str, Any]], sounds: list[tuple[Any, int, float, float]] = ()
                 ) -> tuple[np.ndarray, list[dict], list[dict]]:
    """Speech turns separated by GAP_S of silence, each at a conversational level (-24 dBFS), with sound
    events mixed over them; the demo clip's layout, also used to tune the endpointer on dev speakers.

    ``turns``: (speaker name, speech cut) in order. ``sounds``: (event cut, turn index, offset in s, SNR in dB
    against speech): the event starts ``offset`` after the end of turn 0 (for turn 0) or the start of that
    turn. Returns the clip (peak at most 0.95) and the placed turns and events (what demo.json records).
    """
    pieces, placed_turns, t = [np.zeros(int(0.4 * SAMPLE_RATE), np.float32)], [], 0.4
    for name, cut in turns:
        audio = set_level(_load(cut), -24.0)
        placed_turns.append({"speaker": name, "start_s": round(t, 3), "end_s": round(t + len(audio) / SAMPLE_RATE, 3),
                             "text": cut.supervisions[0].text, "cut": cut.id})
        pieces += [audio, np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)]
        t += len(audio) / SAMPLE_RATE + GAP_S
    clip = np.concatenate(pieces)
    placed = []
    for cut, turn, offset_s, snr_db in sounds:
        turn = min(turn, len(placed_turns) - 1)
        start_s = placed_turns[turn]["end_s" if turn == 0 else "start_s"] + offset_s
        sound = _load(cut)
        clip = mix_at_snr(clip, sound, snr_db, offset=int(start_s * SAMPLE_RATE))
        placed.append({"label": cut.supervisions[0].custom["labels"][0], "start_s": round(start_s, 3),
                       "end_s": round(min(start_s + len(sound) / SAMPLE_RATE, len(clip) / SAMPLE_RATE), 3),
                       "cut": cut.id})
    return clip / max(1.0, float(np.abs(clip).max()) / 0.95), placed_turns, placed


def _write_wav(path: Path, audio: np.ndarray) -> None:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    with atomic_write(path) as f:
        f.write(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.data.demo", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, required=True, help="a built corpus (python -m train.data)")
    p.add_argument("--out", type=Path, required=True, help="folder for clip.wav, enroll/ and demo.json")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        info = build(args.corpus, args.out, args.seed)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: info[k] for k in ("seconds", "turns", "events")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
