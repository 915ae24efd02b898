"""The real recorded-speech dev set (train/data/real_dev.py): transcript rules, and a build."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from train.data import real_dev as rd

CONVENTION = re.compile(r"[A-Z']+( [A-Z']+)*")


# ---- the transcript normaliser ----

@pytest.mark.parametrize("raw, expected", [
    ("and mister john dashwood had then leisure", "AND MISTER JOHN DASHWOOD HAD THEN LEISURE"),
    ("Mr. Smith and Dr. Who", "MISTER SMITH AND DOCTOR WHO"),
    ("He owes $20, doesn't he?", "HE OWES TWENTY DOLLARS DOESN'T HE"),
    ("2 cats, 42 dogs and 1,000 mice", "TWO CATS FORTY TWO DOGS AND ONE THOUSAND MICE"),
    ("the 3rd of 21st", "THE THIRD OF TWENTY FIRST"),
    ("the 12th and 40th", "THE TWELFTH AND FORTIETH"),
    ("2.5 kg", "TWO POINT FIVE KG"),
    ("100% sure", "ONE HUNDRED PERCENT SURE"),
    ("in 1984 and 1905", "IN NINETEEN EIGHTY FOUR AND NINETEEN OH FIVE"),
    ("agent 007", "AGENT ZERO ZERO SEVEN"),
    ("cold-hearted / ill-disposed", "COLD HEARTED ILL DISPOSED"),
    ("Café  naïve", "CAFE NAIVE"),
    ("‘rock’n’roll’", "ROCK'N'ROLL"),
    ("NASA", "NASA"),  # kept: what the speaker said (text.normalise drops acronyms for TTS reasons)
    ("Zero.", "ZERO"),
])
def test_normalise_transcript(raw, expected):
    out = rd.normalise_transcript(raw)
    assert out == expected
    assert CONVENTION.fullmatch(out)


@pytest.mark.parametrize("raw", ["", "  ...  ", "Привет", "日本語"])
def test_normalise_transcript_rejects_what_cannot_be_written(raw):
    assert rd.normalise_transcript(raw) is None


def test_number_readings():
    assert rd.ordinal_to_words(1) == "FIRST" and rd.ordinal_to_words(23) == "TWENTY THIRD"
    assert rd.ordinal_to_words(100) == "ONE HUNDREDTH"
    assert rd.integer_to_words("1900") == "NINETEEN HUNDRED"
    assert rd.integer_to_words("2024") == "TWENTY TWENTY FOUR"
    assert rd.integer_to_words("2005") == "TWO THOUSAND FIVE"
    assert rd.integer_to_words("250") == "TWO HUNDRED FIFTY"
    assert rd.integer_to_words("12345678") == "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT"


# ---- the per-source rules ----

@pytest.mark.parametrize("name, text", [
    ("Front_Left.wav", "FRONT LEFT"), ("Front_Center.wav", "FRONT CENTER"), ("Rear_Right.wav", "REAR RIGHT"),
    ("Side_Left.wav", "SIDE LEFT"), ("Noise.wav", None), ("odd-name1.wav", None),
])
def test_alsa_channel_names(name, text):
    assert rd.alsa_channel_text(name) == text


def test_sphinx_transcription_and_file_name_rules():
    parsed = rd.parse_sphinx_transcription("<s> ten of clubs  </s> (001)\n<s> he was not </s> (ss-0880)\n\njunk\n")
    assert parsed == {"001": "ten of clubs", "ss-0880": "he was not"}
    assert rd.tidigits_text("dhd.2934z") == "TWO NINE THREE FOUR ZERO"
    assert rd.tidigits_text("man.ah.6o838a") == "SIX OH EIGHT THREE EIGHT"
    assert rd.tidigits_text("notdigits") is None
    gram = "#JSGF V1.0;\ngrammar g;\npublic <move> = go forward ten meters;\npublic <m2> = go <dir>;"
    assert rd.jsgf_first_rule(gram) == "go forward ten meters"
    assert rd.jsgf_first_rule("public <m> = go (forward | back);") is None


@pytest.mark.parametrize("stem, description, text", [
    ("frog", "A frog.", "FROG"),
    ("hen", "A brown hen.", "HEN"),
    ("wildboar", "Two wild boars.", "WILD BOAR"),
    ("mountaingoat", "A mountaingoat.", "MOUNTAIN GOAT"),
    ("hippopotamus", "An hippopotamus.", "HIPPOPOTAMUS"),
    ("nandou", "A rhea.", None),  # the description names another word: which was spoken is unknown
    ("chimp", "A chimpanzee.", None),
    ("wallaby", "", None),
])
def test_tuxpaint_stamp_names(stem, description, text):
    assert rd.tuxpaint_desc_text(stem, description) == text


def test_tuxpaint_letters_digits_and_ktuberling_names():
    assert rd.tuxpaint_en_gb_text("The letter a.") == "A"
    assert rd.tuxpaint_en_gb_text("The letter Q.") == "Q"
    assert rd.tuxpaint_en_gb_text("Seven.") == "SEVEN"
    assert rd.ktuberling_text("egypt_palmtree") == "PALM TREE"
    assert rd.ktuberling_text("pizzeria_broccolli") == "BROCCOLI"
    assert rd.ktuberling_text("tv_bicycle") == "BICYCLE"
    assert rd.ktuberling_text("sunglasses") == "SUNGLASSES"
    assert rd.ktuberling_text("moon_ufo") is None


def test_reserved_packages_are_never_fetched(tmp_path):
    assert not any(p.startswith(f) for p in rd.REAL_DEV_PACKAGES for f in rd.FORBIDDEN_PACKAGES)
    for package in ("asterisk-core-sounds-en", "asterisk-core-sounds-en-wav", "klettres-data"):
        with pytest.raises(ValueError, match="reserved"):
            rd.ensure_package(package, tmp_path)
    assert not (tmp_path / "realdev").exists()


# ---- a build on a fake, already unpacked cache (no download) ----

def _fake_cache(cache: Path, speech: np.ndarray) -> None:
    import soundfile as sf

    alsa = rd.package_root("alsa-utils", cache)
    (alsa / "usr/share/sounds/alsa").mkdir(parents=True)
    sf.write(alsa / "usr/share/sounds/alsa/Front_Left.wav", speech, 16000, subtype="PCM_16")
    resampled = np.interp(np.arange(0, len(speech), 16000 / 48000), np.arange(len(speech)), speech)
    loud = 1.3 * resampled / np.abs(resampled).max()  # a peak over full scale: scaled down, gain < 1
    sf.write(alsa / "usr/share/sounds/alsa/Rear_Center.wav", loud, 48000, subtype="FLOAT")
    sf.write(alsa / "usr/share/sounds/alsa/Noise.wav", speech, 16000)
    (alsa / ".extracted").touch()
    ps = rd.package_root("pocketsphinx-testdata", cache) / "usr/share/pocketsphinx/test/data"
    (ps / "cards").mkdir(parents=True)
    (ps / "tidigits").mkdir()
    sf.write(ps / "cards/001.wav", speech, 16000)
    (ps / "cards/cards.transcription").write_text("<s> ten of clubs </s> (001)\n<s> missing file </s> (002)\n")
    (np.clip(speech, -1, 1) * 32767).astype("<i2").tofile(ps / "goforward.raw")
    (ps / "goforward.gram").write_text("public <move> = go forward ten meters;\n")
    (np.clip(speech, -1, 1) * 32767).astype("<i2").tofile(ps / "tidigits/dhd.2934z.raw")
    (rd.package_root("pocketsphinx-testdata", cache) / ".extracted").touch()


def test_build_on_a_fake_cache(tmp_path, signals):
    import soundfile as sf
    from lhotse import CutSet, RecordingSet, SupervisionSet

    cache, out = tmp_path / "cache", tmp_path / "corpus"
    _fake_cache(cache, signals["speech"])
    packages = ("pocketsphinx-testdata", "alsa-utils")
    stats = rd.build_real_dev(out, cache, packages=packages)
    assert stats["items"] == 5 and stats["per_source"]["alsa-utils"]["items"] == 2
    assert [d["source_file"] for d in stats["dropped"]] == ["usr/share/sounds/alsa/Noise.wav"]
    assert abs(stats["seconds"] - 5 * len(signals["speech"]) / 16000) < 0.01

    man = out / "manifests"
    recs = RecordingSet.from_file(man / "speech_recordings_realdev.jsonl.gz")
    sups = SupervisionSet.from_file(man / "speech_supervisions_realdev.jsonl.gz")
    cuts = CutSet.from_file(man / "speech_cuts_realdev.jsonl.gz")
    texts = {s.id: s.text for s in sups}
    assert texts == {"real-alsa-front-left": "FRONT LEFT", "real-alsa-rear-center": "REAR CENTER",
                     "real-psphinx-cards-001": "TEN OF CLUBS", "real-psphinx-goforward": "GO FORWARD TEN METERS",
                     "real-psphinx-tidigits-dhd-2934z": "TWO NINE THREE FOUR ZERO"}
    assert sorted(c.id for c in cuts) == sorted(r.id for r in recs) == sorted(texts)  # cut id = recording id
    for cut in cuts:
        sup = cut.supervisions[0]
        assert sup.recording_id == cut.id and CONVENTION.fullmatch(sup.text) and sup.language == "English"
        assert sup.custom["family"] == "real" and sup.custom["source"] in packages and sup.speaker
        path = out / "audio/speech/realdev" / f"{cut.id}.flac"
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype, info.format) == (16000, 1, "PCM_16", "FLAC")
        assert cut.load_audio().shape == (1, cut.num_samples)
    assert next(s for s in sups if s.id == "real-alsa-rear-center").custom["gain"] < 1.0
    assert next(s for s in sups if s.id == "real-psphinx-tidigits-dhd-2934z").speaker == "real-tidigits-dhd"

    # Idempotent: a second build re-renders nothing and gives the same manifests.
    flac = out / "audio/speech/realdev/real-alsa-front-left.flac"
    before = flac.stat().st_mtime_ns
    assert rd.build_real_dev(out, cache, packages=packages)["items"] == 5
    assert flac.stat().st_mtime_ns == before
    # Resumable: a missing sidecar re-renders just that item.
    (out / "audio/speech/realdev/real-psphinx-goforward.json").unlink()
    assert rd.build_real_dev(out, cache, packages=packages)["items"] == 5
    assert (out / "audio/speech/realdev/real-psphinx-goforward.json").is_file()


# ---- the real thing: download the four packages and build ----

@pytest.mark.slow
def test_build_from_debian_packages(tmp_path):
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("SKIPPED LOUDLY: needs Debian/Ubuntu apt-get and dpkg-deb")
    from lhotse import CutSet

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mt2kd-edge" / "corpus-sources"
    stats = rd.build_real_dev(tmp_path, cache)
    assert set(stats["per_source"]) == set(rd.REAL_DEV_PACKAGES)
    assert stats["items"] >= 180 and stats["minutes"] >= 2.5, stats
    assert stats["per_source"]["alsa-utils"]["items"] == 8
    assert stats["per_source"]["pocketsphinx-testdata"]["items"] == 12
    cuts = CutSet.from_file(tmp_path / "manifests" / "speech_cuts_realdev.jsonl.gz")
    texts = {c.id: c.supervisions[0].text for c in cuts}
    assert len(texts) == stats["items"]
    assert all(CONVENTION.fullmatch(t) for t in texts.values())
    assert texts["real-alsa-front-left"] == "FRONT LEFT"
    assert texts["real-psphinx-goforward"] == "GO FORWARD TEN METERS"
    assert texts["real-psphinx-librivox-0880"] == "HE WAS NOT AN ILL DISPOSED YOUNG MAN"
    assert texts["real-tuxpaint-desc-wildboar"] == "WILD BOAR"
    assert texts["real-tuxpaint-gb-letter-q"] == "Q"
    assert texts["real-ktuberling-egypt-palmtree"] == "PALM TREE"
    assert not any("noise" in i for i in texts)
    assert {c.supervisions[0].custom["family"] for c in cuts} == {"real"}
    assert 0.3 < min(c.duration for c in cuts) and max(c.duration for c in cuts) < 10
