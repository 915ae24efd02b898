"""The corpus builder (train/data): build the ci preset once, then check its guarantees.

The build installs its own Debian and pip packages, so these tests need root on Debian/Ubuntu
(as in CI); elsewhere they skip loudly.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SPLITS = {"speech": ("train", "dev", "test"), "events": ("train", "test")}

lhotse = pytest.importorskip("lhotse")
pytestmark = pytest.mark.skipif(shutil.which("apt-get") is None or os.geteuid() != 0,
                                reason="SKIPPED: the corpus builder installs Debian packages; needs root and apt")


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "train.data", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "ci"
    result = run_cli("--preset", "ci", "--out", str(out))
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def cuts(corpus: Path, dataset: str, split: str):
    return lhotse.CutSet.from_file(corpus / "manifests" / f"{dataset}_cuts_{split}.jsonl.gz")


def sups(corpus: Path, dataset: str, split: str) -> list:
    return [s for c in cuts(corpus, dataset, split) for s in c.supervisions]


def test_normalisation_spells_numbers_and_drops_what_cannot_be_spoken():
    from train.data.text import normalise, number_to_words

    assert number_to_words(0) == "ZERO"
    assert number_to_words(1042) == "ONE THOUSAND FORTY TWO"
    assert normalise("I've got 99 problems, but a glitch ain't one!") == "I'VE GOT NINETY NINE PROBLEMS BUT A GLITCH AIN'T ONE"
    assert normalise("Mr. Smith arrived at 3:30 today.") is None  # abbreviation and a time: no single reading
    assert normalise("The NASA rocket went up again today") is None


def test_every_manifest_loads_with_16khz_audio(corpus):
    for dataset, splits in SPLITS.items():
        for split in splits:
            for part in ("recordings", "supervisions"):
                assert len(lhotse.load_manifest(corpus / "manifests" / f"{dataset}_{part}_{split}.jsonl.gz")) > 0
            cs = cuts(corpus, dataset, split)
            assert len(cs) > 0, (dataset, split)
            for cut in cs:
                assert cut.sampling_rate == 16000 and cut.duration > 0 and cut.num_channels == 1
            audio = next(iter(cs)).load_audio()
            assert audio.shape[0] == 1 and audio.shape[1] > 1600 and np.abs(audio).max() <= 1.0
    pool = lhotse.CutSet.from_file(corpus / "manifests" / "pool_cuts_train.jsonl.gz")
    assert len(pool) == len(cuts(corpus, "speech", "train")) + len(cuts(corpus, "events", "train"))
    assert all(not c.supervisions for c in pool)  # stage 1 sees no labels


def test_speech_has_transcripts_and_speakers_in_the_asr_alphabet(corpus):
    for split in SPLITS["speech"]:
        for s in sups(corpus, "speech", split):
            assert s.text and set(s.text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ' ") and s.speaker


def test_heldout_speakers_never_train_and_use_voices_and_settings_no_training_speaker_uses(corpus):
    from train.data.voices import HELDOUT_KOKORO_VOICE, HELDOUT_PERSONS

    train_sups, test = sups(corpus, "speech", "train"), sups(corpus, "speech", "test")
    train = {s.speaker for s in train_sups}
    dev = {s.speaker for s in sups(corpus, "speech", "dev")}
    assert train and not train & {s.speaker for s in test}
    assert dev <= train  # dev: seen voices, unseen sentences
    assert not {s.custom["person"] for s in train_sups} & set(HELDOUT_PERSONS)
    assert {s.custom["person"] for s in test} & set(HELDOUT_PERSONS)
    for s in train_sups:  # the held-out Kokoro pack is never in a training blend
        assert HELDOUT_KOKORO_VOICE not in s.custom["blend"]
    for s in test:
        if s.custom["system"] == "kokoro":
            assert s.custom["blend"][HELDOUT_KOKORO_VOICE] >= 0.5
    settings = lambda ss, system: {(s.custom["pitch"], s.custom["formant"]) for s in ss if s.custom["system"] == system}
    for system in ("hibari", "kokoro"):
        assert settings(test, system) and not settings(test, system) & settings(train_sups, system)


def test_new_voices_blends_and_the_transcript_check(corpus):
    train = sups(corpus, "speech", "train")
    families = {s.custom["family"] for s in train}
    assert {"neural", "recorded"} <= families
    assert {"hibari", "kokoro"} <= {s.custom["system"] for s in train}
    assert any(len(s.custom["blend"]) >= 2 and abs(sum(s.custom["blend"].values()) - 1) < 0.01
               for s in train if s.custom["system"] == "kokoro")
    # ci checks every utterance: each kept one has a teacher WER within the limit; dropped ones have no audio
    from train.data.transcript_check import MAX_UTTERANCE_WER

    kept = {s.id for split in SPLITS["speech"] for s in sups(corpus, "speech", split)}
    for s in train:
        assert s.custom["teacher_wer"] <= MAX_UTTERANCE_WER
    dropped = [json.loads(p.read_text()) for p in (corpus / "audio" / "speech").rglob("*.json")]
    dropped = [m for m in dropped if m.get("dropped")]
    assert dropped, "the ci preset should exercise the filter (espeak voices Whisper cannot read)"
    for m in dropped:
        assert m["id"] not in kept and "WER" in m["dropped"] and m["check"]["wer"] > MAX_UTTERANCE_WER
    stats = json.loads((corpus / "stats.json").read_text())
    assert stats["transcript_check"]["kokoro"]["checked"] > 0
    assert set(stats["speech"]["train"]["hours_by_family"]) == families


def test_heldout_sentences_never_appear_in_training(corpus):
    train = {s.text for s in sups(corpus, "speech", "train")}
    train_ids = {s.custom["sentence_id"] for s in sups(corpus, "speech", "train")}
    for split in ("dev", "test"):
        held = sups(corpus, "speech", split)
        assert held and not {s.text for s in held} & train
        assert not {s.custom["sentence_id"] for s in held} & train_ids


def test_sv_trials_pair_heldout_utterances_with_correct_labels(corpus):
    speaker = {c.id: c.supervisions[0].speaker for c in cuts(corpus, "speech", "test")}
    lines = (corpus / "sv_trials.txt").read_text().split("\n")[:-1]
    labels = set()
    for line in lines:
        label, a, b = line.split()
        assert a in speaker and b in speaker and a != b
        assert int(label) == (speaker[a] == speaker[b])
        labels.add(label)
    assert labels == {"0", "1"}


def test_every_class_in_train_and_test_from_disjoint_sources(corpus):
    from train.data.events import CLASSES

    names = {c.name for c in CLASSES}
    per_split = {}
    for split in SPLITS["events"]:
        ss = sups(corpus, "events", split)
        assert all(set(s.custom["labels"]) <= names for s in ss)
        single = [s for s in ss if s.custom["kind"] == "event"]
        assert {s.custom["labels"][0] for s in single} == names  # every class present
        assert any(len(s.custom["labels"]) > 1 for s in ss)  # multi-label mixtures exist
        per_split[split] = {src for s in ss for src in s.custom["sources"]}
    assert not per_split["train"] & per_split["test"]


def test_labels_csv_is_what_sherpa_onnx_audio_tagging_reads(corpus):
    from train.data.events import CLASSES

    text = (corpus / "labels.csv").read_text()
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["index", "mid", "display_name"]
    assert len(rows) - 1 == len(CLASSES) == 48
    for i, (row, line) in enumerate(zip(rows[1:], text.splitlines()[1:])):
        assert row[0] == str(i) and row[1].startswith("/m/") and row[2] == CLASSES[i].name
        assert line.endswith(f'"{CLASSES[i].name}"')  # the name is quoted even without a comma in it


def test_stats_agree_with_manifests(corpus):
    stats = json.loads((corpus / "stats.json").read_text())
    assert (corpus / "stats.md").read_text().startswith("# Corpus statistics")
    for split in SPLITS["speech"]:
        cs = cuts(corpus, "speech", split)
        assert stats["speech"][split]["utterances"] == len(cs)
        assert stats["speech"][split]["speakers"] == len({c.supervisions[0].speaker for c in cs})
        assert stats["speech"][split]["hours"] == pytest.approx(sum(c.duration for c in cs) / 3600, abs=1e-3)
    for split in SPLITS["events"]:
        single = [s for s in sups(corpus, "events", split) if s.custom["kind"] == "event"]
        for name, count in stats["events"][split]["clips_per_class"].items():
            assert count == sum(1 for s in single if s.custom["labels"][0] == name)


def test_plan_is_deterministic_for_a_seed():
    from train.data.build import DEFAULT_CACHE_DIR, make_plan
    from train.data.presets import PRESETS

    preset = PRESETS["ci"]
    extracted = {p: DEFAULT_CACHE_DIR / p for p in preset.deb_packages}
    assert make_plan(preset, 0, extracted) == make_plan(preset, 0, extracted)
    assert make_plan(preset, 0, extracted)[0] != make_plan(preset, 1, extracted)[0]


def test_growing_a_preset_only_adds_training_utterances():
    """extra_train_utts is drawn last: the plan before it, events and mixtures included, stays the same, so a
    built corpus keeps every file and a resumed build renders only the new utterances."""
    from dataclasses import replace

    from train.data.build import DEFAULT_CACHE_DIR, make_plan
    from train.data.presets import PRESETS

    base = replace(PRESETS["ci"], extra_train_utts=())
    grown = replace(base, extra_train_utts=(("hibari", 3), ("kokoro", 2)))
    extracted = {p: DEFAULT_CACHE_DIR / p for p in base.deb_packages}
    (speech, events, mixtures, _), (speech2, events2, mixtures2, _) = (make_plan(p, 0, extracted) for p in (base, grown))
    assert speech2[:len(speech)] == speech and events2 == events and mixtures2 == mixtures
    extra = speech2[len(speech):]
    trainers = {s["speaker"]["speaker_id"] for s in speech if s["split"] == "train" and s["speaker"]["system"] in ("hibari", "kokoro")}
    assert len(extra) == 3 * base.hibari_train_speakers + 2 * base.kokoro_train_speakers
    assert {s["speaker"]["speaker_id"] for s in extra} == trainers
    assert all(s["split"] == "train" and not s["audition"] for s in extra)
    assert len({s["id"] for s in speech2}) == len(speech2)  # no speaker reads a sentence twice
    heldout = {s["sentence_id"] for s in speech if s["split"] != "train"}
    assert not heldout & {s["sentence_id"] for s in extra}


def test_new_speakers_only_add_training_voices_unlike_any_other():
    """extra_train_speakers: new training blends drawn after everything else, so the plan before them stays;
    each reads its sentences (auditions first) from the training text, and no one before has its identity."""
    from dataclasses import replace

    from train.data.build import DEFAULT_CACHE_DIR, make_plan
    from train.data.presets import PRESETS
    from train.data.voices import HELDOUT_KOKORO_VOICE

    base = PRESETS["ci"]
    grown = replace(base, extra_train_speakers=(("kokoro", 5, 3), ("hibari", 2, 2)))
    extracted = {p: DEFAULT_CACHE_DIR / p for p in base.deb_packages}
    (speech, events, mixtures, _), (speech2, events2, mixtures2, _) = (make_plan(p, 0, extracted) for p in (base, grown))
    assert speech2[:len(speech)] == speech and events2 == events and mixtures2 == mixtures
    extra = speech2[len(speech):]
    new = {s["speaker"]["speaker_id"]: s["speaker"] for s in extra}
    assert sorted(s["system"] for s in new.values()) == ["hibari"] * 2 + ["kokoro"] * 5
    assert len(extra) == 5 * 3 + 2 * 2
    assert sum(s["audition"] for s in extra) == len(new) * base.audition_utts  # each is auditioned, as all are
    assert all(s["split"] == "train" and not s["speaker"]["heldout"] for s in extra)
    assert not any(HELDOUT_KOKORO_VOICE in s["blend"] for s in new.values())

    def identity(spk):
        return spk["voice"], spk["accent"], spk["pitch"], spk["formant"], spk["rate"]
    before = {s["speaker"]["speaker_id"]: identity(s["speaker"]) for s in speech}
    assert not set(new) & set(before) and not {identity(s) for s in new.values()} & set(before.values())
    heldout = {s["sentence_id"] for s in speech if s["split"] != "train"}
    assert not heldout & {s["sentence_id"] for s in extra}
    with pytest.raises(ValueError, match="not a neural system"):
        make_plan(replace(base, extra_train_speakers=(("espeak", 1, 1),)), 0, extracted)


def test_resume_rebuilds_only_missing_items_identically(corpus, tmp_path):
    copy = tmp_path / "ci"
    shutil.copytree(corpus, copy)
    audio = copy / "audio"
    victims = [sorted((audio / "speech" / "train").glob("*.flac"))[1].with_suffix(".json"),
               sorted((audio / "events" / "test").glob("ev-*.json"))[0],
               sorted((audio / "events" / "train").glob("mix-*.json"))[0]]
    before = {v: (v.read_text(), sf.read(v.with_suffix(".flac"))[0]) for v in victims}
    kept = next(f for f in sorted(audio.rglob("*.flac")) if f.with_suffix(".json") not in before)
    kept_mtime = kept.stat().st_mtime_ns
    for v in victims:  # an interrupted build: some items never written, one with only its audio
        v.unlink()
    victims[0].with_suffix(".flac").unlink()
    victims[1].with_suffix(".flac").unlink()
    result = run_cli("--preset", "ci", "--out", str(copy))
    assert result.returncode == 0, result.stderr[-4000:]
    stats = json.loads((copy / "stats.json").read_text())
    assert stats["build"]["rendered_items"] == len(victims)
    for v, (sidecar, samples) in before.items():
        assert v.read_text() == sidecar
        np.testing.assert_array_equal(sf.read(v.with_suffix(".flac"))[0], samples)
    assert kept.stat().st_mtime_ns == kept_mtime


def test_bad_arguments_fail_clearly(tmp_path):
    result = run_cli("--preset", "huge", "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "invalid choice: 'huge'" in result.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("--preset", "ci", "--out", str(blocker / "corpus"))
    assert result.returncode != 0 and "cannot write to output folder" in result.stderr
    result = run_cli("--preset", "ci", "--out", str(tmp_path / "y"), "--workers", "0")
    assert result.returncode == 2 and "--workers" in result.stderr


def test_manifests_only_describes_a_partial_build_without_rendering(corpus, tmp_path):
    copy = tmp_path / "ci"
    shutil.copytree(corpus, copy)
    speech = sorted((copy / "audio" / "speech" / "train").glob("*.flac"))
    for flac in speech[: len(speech) // 2]:  # as if the build had stopped half way
        flac.with_suffix(".json").unlink()
    result = run_cli("--preset", "ci", "--out", str(copy), "--manifests-only")
    assert result.returncode == 0, result.stderr[-4000:]
    stats = json.loads((copy / "stats.json").read_text())
    assert stats["build"]["complete"] is False and stats["build"]["rendered_items"] == 0
    assert "PARTIAL" in (copy / "stats.md").read_text()
    # what is left, less the auditions of speakers the check dropped
    assert 0 < len(cuts(copy, "speech", "train")) <= len(speech) - len(speech) // 2
    with_audio = [j for j in (copy / "audio" / "speech" / "train").glob("*.json") if j.with_suffix(".flac").exists()]
    assert len(with_audio) == len(speech) - len(speech) // 2  # nothing was rendered again


def test_a_speech_limit_keeps_held_out_sets_and_event_bases_whole_and_is_a_prefix_of_the_full_plan():
    from train.data.build import LIMITED_CANDIDATES, limit_speech
    from train.data.plan import item_seed, plan_hash_order

    def utt(i, split):
        return {"kind": "speech", "id": f"u{i}", "split": split, "seed": item_seed(0, f"u{i}")}

    speech = [utt(i, "train") for i in range(200)] + [utt(i, "test") for i in range(200, 220)] + \
        [utt(i, "dev") for i in range(220, 230)]
    events = [{"id": "ev", "generator": "speech_corpus", "source": "u5", "candidates": [f"u{i}" for i in range(5, 13)]}]
    mixtures = [{"id": "mix", "base": {"kind": "speech", "id": "u50", "candidates": ["u50", "u51"]}},
                {"id": "mix2", "base": {"kind": "event", "id": "ev"}}]
    chosen = {it["id"] for it in limit_speech(speech, events, mixtures, 60)}
    assert len(chosen) == 60
    assert {f"u{i}" for i in range(200, 230)} <= chosen  # every held-out utterance
    assert {f"u{i}" for i in range(5, 5 + LIMITED_CANDIDATES)} | {"u50", "u51"} <= chosen  # what clips are built on
    # the rest is the start of the order a full build renders in, so an interrupted full build's items are reused
    train_rest = [it["id"] for it in plan_hash_order(speech) if it["split"] == "train"]
    picked = [i for i in train_rest if i in chosen]
    assert picked[:10] == train_rest[:10]
    assert len(limit_speech(speech, events, mixtures, 1000)) == len(speech)
    need = 30 + LIMITED_CANDIDATES + 2  # held-out + the event's first candidates + the mixture's base
    assert len(limit_speech(speech, events, mixtures, need)) == need
    with pytest.raises(ValueError, match=f"--speech-limit {need - 1} is below the {need} utterances"):
        limit_speech(speech, events, mixtures, need - 1)
    # an offset moves only the training fill: the held-out sets and the clips' bases stay, the rest is new
    later = {it["id"] for it in limit_speech(speech, events, mixtures, 60, offset=150)}
    bases = {f"u{i}" for i in range(5, 5 + LIMITED_CANDIDATES)} | {"u50", "u51"}
    assert len(later) == 60 and {f"u{i}" for i in range(200, 230)} | bases <= later
    order = [it["id"] for it in plan_hash_order(speech)]
    rotated = order[150:] + order[:150]
    fill = [i for i in rotated if int(i[1:]) < 200 and i not in bases]  # training utterances, from the offset on
    assert {i for i in later if int(i[1:]) < 200} - bases == set(fill[:60 - 30 - len(bases)])
    assert len(later - chosen) > 10  # a later session meets sentences the first did not render
