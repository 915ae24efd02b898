"""A real recorded-speech dev set (evaluation only, never training), from Debian packages.

    python -m train.data.real_dev --out data/corpus            # writes split ``realdev``
    python -m train.data.real_dev --out data/corpus --wer      # ... and scores Whisper base on it

Human recordings whose transcript is known from the package itself, not from a recogniser:

- ``pocketsphinx-testdata`` (BSD-2, CMU): 5 LibriVox sentences (Sense and Sensibility), 5 playing-card
  phrases, "go forward ten meters" and one TIDIGITS digit string. Text: the shipped ``transcription``
  files, the JSGF rule in ``goforward.gram`` and the TIDIGITS file name (upstream's tests assert the same).
- ``alsa-utils`` (GPL-2): speaker-test's channel names. Text: the file name, ``Front_Left.wav`` ->
  ``FRONT LEFT``.
- ``tuxpaint-stamps-default`` (GPL-2): spoken stamp names (``*_desc.ogg``), and British English letters
  and digits (``*_en_GB.ogg``, recorded by John Arundel per the upstream changelog). Text: the stamp's
  file name, kept only where its English description (``<stamp>.txt``) names it too; ``The letter a.``
  -> ``A`` (the letter alone is spoken); ``Zero.`` -> ``ZERO``.
- ``ktuberling-data`` (GPL-2+): the English object names of KDE's potato-guy toy (``sounds/en``). Text:
  the sound names in ``en.soundtheme`` (theme prefix dropped, four spelling fixes).

What is left out, and why, is in ``REJECTED``. ``asterisk-core-sounds-*`` and ``klettres-data`` are never
touched: they are kept for an independent check. Transcripts follow the corpus convention (UPPER CASE,
A-Z, apostrophe, single spaces, numbers spelled out) through ``normalise_transcript``, which, unlike
``text.normalise`` (built for what a synthesiser can say), keeps every item whose words are known.

Layout (as the other speech splits): ``OUT/audio/speech/realdev/<id>.flac`` (16 kHz mono PCM_16) with a
``<id>.json`` sidecar written last (an item is done when its sidecar exists), and
``OUT/manifests/speech_{recordings,supervisions,cuts}_realdev.jsonl.gz``; one supervision per
recording, cut id = recording id. ``custom``: ``family="real"``, ``source`` (the package), ``system``
(``recorded``), ``voice`` (the file group), ``person`` (who spoke, where the package says), ``real_voice``,
``source_file``, ``original_text`` (before normalisation), ``licence``, ``gain`` (applied only to keep the
peak under 0 dBFS), ``tempo`` and ``augment`` (1.0 and none: nothing is changed). Statistics go to
``OUT/stats_realdev.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import unicodedata
from fractions import Fraction
from pathlib import Path

import numpy as np

from mt2kd_edge.fileio import atomic_write_text
from mt2kd_edge.spec import SAMPLE_RATE

from .deps import unpack_deb
from .layout import manifest_path
from .manifests import save_manifest
from .text import number_to_words

SPLIT = "realdev"
PEAK = 0.999  # a decoded Ogg may overshoot 1.0; such a clip is scaled down (custom["gain"]), nothing else changes
SIDECAR_VERSION = 1

# Debian packages fetched with `apt-get download` (nothing installed), unpacked under cache_dir/realdev/.
REAL_DEV_PACKAGES = (
    "pocketsphinx-testdata",
    "alsa-utils",
    "tuxpaint-stamps-default",
    "ktuberling-data",
)
FORBIDDEN_PACKAGES = ("asterisk-core-sounds-", "klettres-data")  # reserved for an independent check

# Members each package needs (tar wildcards); the package's copyright file always comes too.
_MEMBERS = {
    "pocketsphinx-testdata": ("*/pocketsphinx/test/data/librivox/*", "*/pocketsphinx/test/data/cards/*",
                              "*/pocketsphinx/test/data/goforward.*", "*/pocketsphinx/test/data/tidigits/*.raw"),
    "alsa-utils": ("*/sounds/alsa/*.wav",),
    "tuxpaint-stamps-default": ("*_desc.ogg", "*_en_GB.ogg", "*/stamps/*.txt"),
    "ktuberling-data": ("*/ktuberling/sounds/en/*", "*/ktuberling/sounds/en.soundtheme"),
}
LICENCES = {
    "pocketsphinx-testdata": "BSD-2-Clause (Carnegie Mellon University), Debian main",
    "alsa-utils": "GPL-2, Debian main",
    "tuxpaint-stamps-default": "GPL-2, Debian main",
    "ktuberling-data": "GPL-2+, Debian main",
}
REJECTED = {
    "alsa-utils Noise.wav": "pink noise, no speech (Whisper hears nothing)",
    "pocketsphinx-testdata numbers.raw, something.raw": "no transcript shipped (upstream uses them as "
                                                        "out-of-grammar / keyword-spotting inputs)",
    "pocketsphinx-testdata tidigits/*.mfc, goforward.mfc": "features only, no audio",
    "tuxpaint-stamps-default stamps whose description does not name the file": "nandou (text: rhea), tucan "
        "(toucan), chimp (chimpanzee), wallaby (no description): which of the two was spoken is unknown",
    "ktuberling-data moon_ufo": "spoken as letters or as a word: unknown",
    "ktuberling-data tv_tree.ogg": "not in en.soundtheme, so nothing ties the file to a word",
    "qabcs-data": "its voices were made with Google text-to-speech (upstream CONTRIBUTORS)",
    "gcompris-qt-data": "no voices in the package (GCompris downloads them at run time); only sound effects",
    "fillets-ng-data": "its en/ folders hold sound effects; the spoken dialogs are only Czech and Dutch",
    "pokerth-data, tuxtype-data, kanagram, ri-li-data, dreamchess-data": "sound effects, no words",
    "neverball-common": "a few voice prompts (ready, set, go, hole in one, ...) whose exact words are "
                        "documented nowhere; its gd/ prompts are Gaelic",
    "linphone-common hello*.wav": "no transcript shipped",
    "hedgewars-data, megaglest-data": "their voice lines are event-training data already (Speech class)",
    "svxlink-server": "ships no sound files (voice prompts are a separate, unpackaged download)",
}


# ------------------------------------------------------------------ transcript normaliser

_ORDINAL_WORDS = {"ONE": "FIRST", "TWO": "SECOND", "THREE": "THIRD", "FIVE": "FIFTH", "EIGHT": "EIGHTH",
                  "NINE": "NINTH", "TWELVE": "TWELFTH"}
_DIGIT_WORDS = "ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE".split()
_ABBREVIATIONS = {"mr": "MISTER", "mrs": "MISSUS", "dr": "DOCTOR"}  # unambiguous ones only (St. is not)
_SYMBOLS = {"&": " AND ", "%": " PERCENT ", "+": " PLUS ", "@": " AT ", "=": " EQUALS "}
_CURRENCY = {"$": ("DOLLAR", "DOLLARS"), "£": ("POUND", "POUNDS"), "€": ("EURO", "EUROS")}


def ordinal_to_words(n: int) -> str:
    """21 -> 'TWENTY FIRST', 12 -> 'TWELFTH', 40 -> 'FORTIETH'."""
    words = number_to_words(n).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("Y"):
        words[-1] = last[:-1] + "IETH"
    else:
        words[-1] = last + "TH"
    return " ".join(words)


def digits_to_words(digits: str) -> str:
    return " ".join(_DIGIT_WORDS[int(d)] for d in digits)


def integer_to_words(digits: str) -> str:
    """How a bare digit string is read: digit by digit when it has a leading zero or more than six
    digits; 1100-1999 and 2010-2099 in pairs, as years are ('1984' -> 'NINETEEN EIGHTY FOUR');
    otherwise as a number ('2024' is a year: 'TWENTY TWENTY FOUR'; '250' -> 'TWO HUNDRED FIFTY')."""
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > 6:
        return digits_to_words(digits)
    n = int(digits)
    if len(digits) == 4 and (1100 <= n <= 1999 or 2010 <= n <= 2099):
        high, low = divmod(n, 100)
        if low == 0:
            return number_to_words(high) + " HUNDRED"
        return number_to_words(high) + " " + ("OH " + _DIGIT_WORDS[low] if low < 10 else number_to_words(low))
    return number_to_words(n)


def _spell_numbers(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    for symbol, (one, many) in _CURRENCY.items():
        text = re.sub(re.escape(symbol) + r"(\d+)\b(?!\.\d)",
                      lambda m: f" {integer_to_words(m.group(1))} {one if m.group(1) == '1' else many} ", text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: " " + ordinal_to_words(int(m.group(1))) + " ", text,
                  flags=re.IGNORECASE)
    text = re.sub(r"\b(\d+)\.(\d+)\b",
                  lambda m: f" {integer_to_words(m.group(1))} POINT {digits_to_words(m.group(2))} ", text)
    return re.sub(r"\d+", lambda m: " " + integer_to_words(m.group()) + " ", text)


def normalise_transcript(text: str) -> str | None:
    """A known transcript in the corpus convention, or None when nothing of it can be written so.

    'Mr. John Dashwood had 2 sons!' -> 'MISTER JOHN DASHWOOD HAD TWO SONS'; accents are dropped (café ->
    CAFE), hyphens and slashes become spaces, other punctuation goes, apostrophes inside words stay
    (DON'T); numbers, ordinals (3rd), decimals (2.5), money ($5) and % are spelled out. Unlike
    ``text.normalise`` nothing is rejected for being hard to synthesise: a recording says what it says.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    text = re.sub(r"\b(" + "|".join(_ABBREVIATIONS) + r")\.", lambda m: _ABBREVIATIONS[m.group(1).lower()] + " ",
                  text, flags=re.IGNORECASE)
    text = _spell_numbers(text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    text = re.sub(r"[-_/\u2010-\u2015]", " ", text)
    text = re.sub(r"[^\w' ]", " ", text)  # punctuation
    words = [w.strip("'") for w in text.upper().split()]
    words = [w for w in words if w]
    if not words or any(not re.fullmatch(r"[A-Z]+('[A-Z]+)*", w) for w in words):
        return None  # empty, or letters outside A-Z (another script)
    return " ".join(words)


def follows_convention(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Z']+( [A-Z']+)*", text or ""))


# ------------------------------------------------------------------ per-source transcript rules

def alsa_channel_text(file_name: str) -> str | None:
    """ALSA speaker-test clips say their channel: 'Front_Left.wav' -> 'FRONT LEFT'. 'Noise.wav' is noise."""
    stem = Path(file_name).stem
    if stem.lower() == "noise" or not re.fullmatch(r"[A-Za-z]+(_[A-Za-z]+)*", stem):
        return None
    return " ".join(w.upper() for w in stem.split("_"))


_SPHINX_LINE = re.compile(r"^\s*(?:<s>)?\s*(.*?)\s*(?:</s>)?\s*\(([^()\s]+)\)\s*$")


def parse_sphinx_transcription(text: str) -> dict[str, str]:
    """CMU Sphinx ``<s> words </s> (utterance-id)`` lines -> {utterance id: words}."""
    out = {}
    for line in text.splitlines():
        m = _SPHINX_LINE.match(line)
        if m and m.group(1):
            out[m.group(2)] = m.group(1)
    return out


def tidigits_text(name: str) -> str | None:
    """TIDIGITS file names spell their digits: 'dhd.2934z' or 'man.ah.2934za' -> 'TWO NINE THREE FOUR ZERO'
    (z = zero, o = oh, a trailing a/b is the take)."""
    code = name.rsplit(".", 1)[-1]
    code = re.sub(r"(?<=[1-9zo])[ab]$", "", code)
    if not re.fullmatch(r"[1-9zo]+", code):
        return None
    return " ".join("ZERO" if c == "z" else "OH" if c == "o" else _DIGIT_WORDS[int(c)] for c in code)


def jsgf_first_rule(grammar: str) -> str | None:
    """The words of the first public JSGF rule when it is a plain word sequence (no alternatives)."""
    m = re.search(r"public\s+<\w+>\s*=\s*([^;]*);", grammar)
    if not m or re.search(r"[|\[\]()<>*+/]", m.group(1)):
        return None
    return m.group(1).strip() or None


_TUXPAINT_OVERRIDES = {"mountaingoat": "MOUNTAIN GOAT"}  # the description writes it as one word
_ARTICLES = {"a", "an", "the"}


def tuxpaint_desc_text(stem: str, description: str) -> str | None:
    """A stamp's spoken name (``<stem>_desc.ogg`` says the stamp's file name, e.g. 'wild boar'), kept only
    when its English description names it too ('Two wild boars.'), a plural allowed; the word breaks
    come from the description. None when the two disagree (nandou / 'A rhea.')."""
    stem = stem.lower()
    if stem in _TUXPAINT_OVERRIDES and stem in description.lower().replace(" ", ""):
        return _TUXPAINT_OVERRIDES[stem]
    words = [w for w in re.sub(r"[^a-z' ]", " ", description.lower()).split()]
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            joined = "".join(words[i:j])
            if joined in (stem, stem + "s", stem + "es"):
                parts, used = [], 0
                for w in words[i:j]:
                    take = w[: max(0, len(stem) - used)]
                    used += len(take)
                    if take:
                        parts.append(take)
                return normalise_transcript(" ".join(parts))
            if len(joined) > len(stem) + 2:
                break
    return None


def tuxpaint_en_gb_text(line: str) -> str | None:
    """British English letter and digit stamps: 'The letter a.' is spoken as just 'a' -> 'A'; 'Zero.' -> 'ZERO'."""
    m = re.fullmatch(r"\s*the letter ([a-z])\.?\s*", line, flags=re.IGNORECASE)
    if m:
        return m.group(1).upper()
    return normalise_transcript(line)


_KTUBERLING_THEMES = re.compile(r"^(egypt|moon|pizzeria|tv)_")
_KTUBERLING_FIXES = {"palmtree": "PALM TREE", "fallingstar": "FALLING STAR", "sphynx": "SPHINX",
                     "broccolli": "BROCCOLI"}
_KTUBERLING_SKIP = {"ufo"}  # letters or a word: unknown


def ktuberling_text(sound_name: str) -> str | None:
    """'egypt_palmtree' -> 'PALM TREE', 'moustache' -> 'MOUSTACHE'; the theme prefix is not spoken."""
    word = _KTUBERLING_THEMES.sub("", sound_name.lower())
    if word in _KTUBERLING_SKIP:
        return None
    return _KTUBERLING_FIXES.get(word) or normalise_transcript(word)


# ------------------------------------------------------------------ fetching

def package_root(package: str, cache_dir: Path) -> Path:
    return Path(cache_dir) / "realdev" / package


def ensure_package(package: str, cache_dir: Path) -> Path:
    """The members of one Debian package this module reads, unpacked under ``cache_dir/realdev/<package>``.

    Through ``deps.unpack_deb``, as the event builder's packages are; a separate folder from the event
    builder's ``cache_dir/<package>``, which keeps sound files only.
    """
    if any(package.startswith(p) for p in FORBIDDEN_PACKAGES):
        raise ValueError(f"{package} is reserved for an independent check and is never used here")
    members = (*_MEMBERS[package], f"*/doc/{package}/copyright")
    return unpack_deb(package, package_root(package, cache_dir), Path(cache_dir) / "realdev" / "debs", members)


# ------------------------------------------------------------------ the items of each source

def _item(source: str, key: str, path: Path, root: Path, text: str | None, original: str, speaker: str,
          voice: str, person: str | None = None, audio_format: str = "file") -> dict:
    """One candidate; ``text`` None means its transcript is unknown or unreliable (it is dropped)."""
    slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    return {"id": f"real-{_SHORT[source]}-{slug}", "source": source, "path": str(path),
            "source_file": path.relative_to(root).as_posix(), "text": text, "original_text": original,
            "speaker": speaker, "voice": voice, "person": person, "format": audio_format}


def items_pocketsphinx(root: Path) -> list[dict]:
    source = "pocketsphinx-testdata"
    data = root / "usr/share/pocketsphinx/test/data"
    items = []
    groups = (("librivox", "real-librivox-sense-and-sensibility-01"), ("cards", "real-pocketsphinx-cards"))
    for group, speaker in groups:
        folder = data / group
        trans = folder / ("transcription" if group == "librivox" else "cards.transcription")
        if not trans.is_file():
            continue
        for utt, words in sorted(parse_sphinx_transcription(trans.read_text()).items()):
            wav = folder / f"{utt}.wav"
            if wav.is_file():
                key = f"{group}-{utt.rsplit('-', 1)[-1]}"
                items.append(_item(source, key, wav, root, normalise_transcript(words), words, speaker, group))
    gram, raw = data / "goforward.gram", data / "goforward.raw"
    if gram.is_file() and raw.is_file():
        words = jsgf_first_rule(gram.read_text())
        items.append(_item(source, "goforward", raw, root, words and normalise_transcript(words), words or "",
                           "real-pocketsphinx-goforward", "goforward", audio_format="raw"))
    for raw in sorted((data / "tidigits").glob("*.raw")):
        speaker_code = raw.stem.split(".")[0]
        items.append(_item(source, f"tidigits-{raw.stem}", raw, root, tidigits_text(raw.stem), raw.stem,
                           f"real-tidigits-{speaker_code}", "tidigits", person=speaker_code, audio_format="raw"))
    return items


def items_alsa(root: Path) -> list[dict]:
    folder = root / "usr/share/sounds/alsa"
    return [_item("alsa-utils", wav.stem, wav, root, alsa_channel_text(wav.name), wav.stem, "real-alsa-utils",
                  "speaker-test") for wav in sorted(folder.glob("*.wav"))]


def _stamp_lines(txt: Path) -> tuple[str, dict[str, str]]:
    lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
    english = lines[0].strip() if lines else ""
    translations = {}
    for ln in lines[1:]:
        if "=" in ln:
            lang, _, value = ln.partition("=")
            translations[lang.split(".")[0].strip()] = value.strip()
    return english, translations


def items_tuxpaint(root: Path) -> list[dict]:
    source, stamps = "tuxpaint-stamps-default", root / "usr/share/tuxpaint/stamps"
    items, seen = [], set()
    for ogg in sorted(stamps.rglob("*_desc.ogg")):
        stem = ogg.name[: -len("_desc.ogg")]
        txt = ogg.with_name(stem + ".txt")
        english = _stamp_lines(txt)[0] if txt.is_file() else ""  # no description: nothing confirms the name
        items.append(_item(source, f"desc-{stem}", ogg, root, tuxpaint_desc_text(stem, english), english,
                           "real-tuxpaint-desc-en", "stamp-names-en"))
    # The letters ship four times (filled/outlined x upper/lower case), one recording: keep one of each.
    def preference(p: Path):  # lower case, filled first: the copy whose id and path look plainest
        stem = p.name.split("_")[0]
        return stem.lower() != stem, "outline" in p.name, p.as_posix()

    for ogg in sorted(stamps.rglob("*_en_GB.ogg"), key=preference):
        digest = hashlib.sha1(ogg.read_bytes()).hexdigest()
        stem = ogg.name[: -len("_en_GB.ogg")]
        txt = ogg.with_name(stem + ".txt")
        if digest in seen or not txt.is_file():
            continue
        seen.add(digest)
        english, tr = _stamp_lines(txt)
        line = tr.get("en_GB", english)
        text = tuxpaint_en_gb_text(line)
        key = f"gb-letter-{text.lower()}" if text and len(text) == 1 else f"gb-{stem.split('_')[0].lower()}"
        items.append(_item(source, key, ogg, root, text, line, "real-tuxpaint-en-gb-john-arundel",
                           "letters-digits-en-gb", person="John Arundel"))
    return items


def items_ktuberling(root: Path) -> list[dict]:
    sounds = root / "usr/share/ktuberling/sounds"
    theme = sounds / "en.soundtheme"
    if not theme.is_file():
        return []
    items = []
    for name, rel in re.findall(r'<sound\s+name="([^"]+)"\s+file="([^"]+)"', theme.read_text()):
        path = sounds / rel
        if path.is_file():
            items.append(_item("ktuberling-data", name, path, root, ktuberling_text(name), name,
                               "real-ktuberling-en", "object-names-en"))
    return items


_SHORT = {"pocketsphinx-testdata": "psphinx", "alsa-utils": "alsa", "tuxpaint-stamps-default": "tuxpaint",
          "ktuberling-data": "ktuberling"}
_READERS = {"pocketsphinx-testdata": items_pocketsphinx, "alsa-utils": items_alsa,
            "tuxpaint-stamps-default": items_tuxpaint, "ktuberling-data": items_ktuberling}


# ------------------------------------------------------------------ audio, sidecars, manifests

def load_audio(path: str, audio_format: str = "file") -> np.ndarray:
    """16 kHz float32 mono. ``raw``: headerless 16 kHz 16-bit little-endian mono (CMU Sphinx test data)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    if audio_format == "raw":
        return np.fromfile(path, dtype="<i2").astype(np.float32) / 32768.0
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        ratio = Fraction(SAMPLE_RATE, rate).limit_denominator(1000)
        audio = resample_poly(audio, ratio.numerator, ratio.denominator)
    return audio.astype(np.float32)


def audio_dir(out_dir: Path) -> Path:
    return Path(out_dir) / "audio" / "speech" / SPLIT


def _atomic_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, ensure_ascii=False) + "\n")


def render_item(out_dir: Path, item: dict) -> dict:
    """Write ``<id>.flac`` then its sidecar; a finished item (same text and source) is only read back."""
    import soundfile as sf

    folder = audio_dir(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sidecar = folder / f"{item['id']}.json"
    if sidecar.is_file():
        meta = json.loads(sidecar.read_text())
        if (meta.get("version") == SIDECAR_VERSION and meta.get("text") == item["text"]
                and meta.get("source_file") == item["source_file"] and (folder / f"{item['id']}.flac").is_file()):
            return meta
    audio = load_audio(item["path"], item["format"])
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    gain = PEAK / peak if peak > PEAK else 1.0
    audio = np.clip(audio * gain, -1.0, 1.0)
    flac = folder / f"{item['id']}.flac"
    tmp = folder / f".{item['id']}.tmp.flac"
    sf.write(tmp, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    os.replace(tmp, flac)
    meta = {**{k: v for k, v in item.items() if k not in ("path", "format")}, "version": SIDECAR_VERSION,
            "split": SPLIT, "num_samples": int(len(audio)), "duration_s": round(len(audio) / SAMPLE_RATE, 4),
            "gain": round(gain, 4), "licence": LICENCES[item["source"]]}
    _atomic_json(sidecar, meta)
    return meta


def write_manifests(out_dir: Path, metas: list[dict]) -> dict[str, Path]:
    """``speech_{recordings,supervisions,cuts}_realdev.jsonl.gz``: one supervision per recording, cut id =
    recording id (as ``manifests.write_manifests`` writes the synthetic splits)."""
    from lhotse import AudioSource, CutSet, MonoCut, Recording, RecordingSet, SupervisionSegment, SupervisionSet

    recordings, supervisions = [], []
    for m in sorted(metas, key=lambda m: m["id"]):
        path = (audio_dir(out_dir) / f"{m['id']}.flac").resolve()
        duration = m["num_samples"] / SAMPLE_RATE
        recordings.append(Recording(id=m["id"], sources=[AudioSource(type="file", channels=[0], source=str(path))],
                                    sampling_rate=SAMPLE_RATE, num_samples=m["num_samples"], duration=duration))
        custom = {"family": "real", "source": m["source"], "system": "recorded", "voice": m["voice"],
                  "person": m["person"], "real_voice": True, "source_file": m["source_file"],
                  "original_text": m["original_text"], "licence": m["licence"], "gain": m["gain"],
                  "tempo": 1.0, "augment": []}
        supervisions.append(SupervisionSegment(id=m["id"], recording_id=m["id"], start=0.0, duration=duration,
                                               channel=0, text=m["text"], speaker=m["speaker"], language="English",
                                               custom=custom))
    recs, sups = RecordingSet.from_recordings(recordings), SupervisionSet.from_segments(supervisions)
    cuts = CutSet.from_cuts(MonoCut(id=r.id, start=0.0, duration=r.duration, channel=0, recording=r,
                                    supervisions=[s]) for r, s in zip(recordings, supervisions))
    paths = {}
    for name, manifest in (("recordings", recs), ("supervisions", sups), ("cuts", cuts)):
        paths[name] = manifest_path(out_dir, "speech", SPLIT, name)
        save_manifest(manifest, paths[name])
    return paths


def collect_items(cache_dir: Path, packages: tuple[str, ...] = REAL_DEV_PACKAGES) -> tuple[list[dict], list[dict]]:
    """(kept, dropped): every candidate of every package; dropped ones have no reliable transcript."""
    candidates = []
    for package in packages:
        candidates += _READERS[package](ensure_package(package, cache_dir))
    kept = [it for it in candidates if it["text"]]
    ids = [it["id"] for it in kept]
    if len(ids) != len(set(ids)):
        raise RuntimeError(f"duplicate realdev ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    bad = [it["id"] for it in kept if not follows_convention(it["text"])]
    if bad:
        raise RuntimeError(f"transcripts outside the convention: {bad}")
    return kept, [it for it in candidates if not it["text"]]


def build_real_dev(out_dir: Path, cache_dir: Path, packages: tuple[str, ...] = REAL_DEV_PACKAGES) -> dict:
    """Fetch, convert and describe the real dev set; idempotent (finished items are skipped).

    Returns {"items", "seconds", "minutes", "speakers", "per_source": {package: {"items", "seconds",
    "licence"}}, "dropped": [candidates without a reliable transcript], "manifests"} and writes the same
    to ``OUT/stats_realdev.json``.
    """
    out_dir, cache_dir = Path(out_dir), Path(cache_dir)
    items, dropped = collect_items(cache_dir, packages)
    if not items:
        raise RuntimeError(f"no realdev items found in {packages}")
    metas = [render_item(out_dir, it) for it in items]
    paths = write_manifests(out_dir, metas)
    per_source: dict[str, dict] = {}
    for m in metas:
        row = per_source.setdefault(m["source"], {"items": 0, "seconds": 0.0, "licence": m["licence"]})
        row["items"] += 1
        row["seconds"] += m["num_samples"] / SAMPLE_RATE
    for row in per_source.values():
        row["seconds"] = round(row["seconds"], 2)
    seconds = round(sum(m["num_samples"] for m in metas) / SAMPLE_RATE, 2)
    stats = {"split": SPLIT, "items": len(metas), "seconds": seconds, "minutes": round(seconds / 60, 2),
             "speakers": len({m["speaker"] for m in metas}), "per_source": per_source,
             "dropped": [{"source": d["source"], "source_file": d["source_file"], "original_text": d["original_text"]}
                         for d in dropped],
             "manifests": {k: str(v) for k, v in paths.items()}}
    _atomic_json(out_dir / "stats_realdev.json", stats)
    return stats


# ------------------------------------------------------------------ Whisper base on the dev set

def _score_normalise(hyp: str, ref: str) -> str:
    """Whisper writes digit strings as numerals ('29340'); where the reference is digits read one by one
    (TIDIGITS, cards: 'FIVE FIVE'), read the numerals one by one too."""
    ref_words = set(ref.split())
    if ref_words and ref_words <= set(_DIGIT_WORDS) | {"OH"}:
        hyp = re.sub(r"\d+", lambda m: " " + digits_to_words(m.group()) + " ", hyp)
    return normalise_transcript(hyp) or ""


def whisper_wer(out_dir: Path, log=print) -> dict:
    """Whisper base (the transcript check's reader: int8, greedy, no timestamps, English) on every realdev
    cut; corpus WER per source and overall, and every hypothesis, into ``OUT/whisper_base_realdev.json``."""
    import jiwer
    from lhotse import CutSet

    from .transcript_check import transcribe

    cuts = CutSet.from_file(manifest_path(out_dir, "speech", SPLIT))
    rows = []
    for cut in cuts:
        audio = cut.load_audio()[0].astype(np.float32)
        raw = transcribe(audio)
        sup = cut.supervisions[0]
        rows.append({"id": cut.id, "source": sup.custom["source"], "ref": sup.text, "raw_hyp": raw,
                     "hyp": _score_normalise(raw, sup.text)})
    result = {"model": "whisper-base (ctranslate2 int8, greedy)", "per_source": {}}
    for source in sorted({r["source"] for r in rows}) + ["all"]:
        sel = [r for r in rows if source in ("all", r["source"])]
        out = jiwer.process_words([r["ref"] for r in sel], [r["hyp"] for r in sel])
        words = sum(len(r["ref"].split()) for r in sel)
        result["per_source"][source] = {"items": len(sel), "words": words, "wer": round(out.wer, 4),
                                        "substitutions": out.substitutions, "deletions": out.deletions,
                                        "insertions": out.insertions}
        log(f"{source:26s} items {len(sel):4d}  words {words:4d}  WER {100 * out.wer:6.1f} %")
    result["hypotheses"] = rows
    _atomic_json(Path(out_dir) / "whisper_base_realdev.json", result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the corpus folder (split realdev is added)")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mt2kd-edge"
                        / "corpus-sources")
    parser.add_argument("--wer", action="store_true", help="also score Whisper base on the set")
    args = parser.parse_args(argv)
    stats = build_real_dev(args.out, args.cache_dir)
    print(json.dumps({k: v for k, v in stats.items() if k != "manifests"}, indent=1))
    if args.wer:
        whisper_wer(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
