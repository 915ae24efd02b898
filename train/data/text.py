"""Sentences for the speech corpus: English text from Debian and PyPI packages, split and normalised into ASR targets.

Normalisation (the convention every transcript in the corpus follows):
- UPPER CASE, as LibriSpeech and the icefall recipes write it, so real corpora read through lhotse
  share one vocabulary with this one;
- only the letters A-Z, the apostrophe and single spaces;
- whole numbers up to 999999 are spelled out ("42" -> "FORTY TWO"); a sentence with any other digit
  form (decimals, times, ordinals like 3rd, years with dashes) is dropped, because a synthesiser would
  speak it in a way the transcript cannot predict;
- hyphens become spaces; other punctuation is dropped; accents are stripped (cafe, naive); a sentence
  with an abbreviation or acronym (Mr., U.S., NASA, e.g.) or with letters outside the Latin alphabet is
  dropped for the same reason as odd numbers.
The synthesisers are fed the normalised text itself, so what is spoken is what is written.

Sources (``SOURCES``; each reader yields raw sentences, ``read_source_sentences`` normalises them):
the fortune collections, WordNet's example sentences, the prose of three free games (Cataclysm: Dark
Days Ahead, Endless Sky, Dungeon Crawl Stone Soup), the ChatterBot dialogue corpus and a few small
collections. A sentence is kept only when nearly all its words are in the American or British English
word lists (wamerican, wbritish) and it has no archaic forms (thee, hath, ...), stray letters or slurs, so
foreign, Middle or Early Modern English text and the odd insult are dropped. Near-duplicates fall together
in normalisation (they differ in punctuation or case only), and templated texts (the games' item
descriptions) are capped at MAX_PER_OPENING sentences per four-word opening.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

FORTUNES_DIR = Path("/usr/share/games/fortunes")
MIN_WORDS = 4  # shorter sentences are mostly interjections and quote attributions
MAX_WORDS = 24  # longer ones make utterances over ~10 s

_ONES = ("ZERO ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN ELEVEN TWELVE THIRTEEN FOURTEEN FIFTEEN "
         "SIXTEEN SEVENTEEN EIGHTEEN NINETEEN").split()
_TENS = "_ _ TWENTY THIRTY FORTY FIFTY SIXTY SEVENTY EIGHTY NINETY".split()


def number_to_words(n: int) -> str:
    """Spell out 0 <= n < 1_000_000 the way English speakers (and espeak-ng) read it aloud."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is out of range")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " HUNDRED" + ("" if rest == 0 else " " + number_to_words(rest))
    rest = n % 1000
    return number_to_words(n // 1000) + " THOUSAND" + ("" if rest == 0 else " " + number_to_words(rest))


_ABBREVIATION = re.compile(r"\b([A-Za-z]\.){2,}|\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc|Prof|Gen|Col|Capt|Lt|No)\.|"
                           r"\b[A-Z]{2,}\b")
# A sentence ends at . ! ? or an ellipsis, maybe followed by a closing quote or bracket, before a capital;
# not after an initial (Arthur C. Clarke).
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?<!\b[A-Z]\.)\s+(?=[A-Z\"'“‘(])"
                           r"|(?<=[.!?…][\"'”’)])\s+(?=[A-Z\"'“‘(])")
# Typographic punctuation that has a plain equivalent; anything else non-ASCII is judged below.
_PLAIN = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "„": '"', "«": '"',
                        "»": '"', "–": "-", "—": "-", "‐": "-", "‑": "-", "…": "...", "\u00a0": " ", "\u2009": " "})


def _to_ascii(text: str) -> str | None:
    """Plain punctuation for typographic, accents stripped; None when letters of another script remain."""
    if text.isascii():
        return text
    text = text.translate(_PLAIN)
    if text.isascii():
        return text
    out = []
    for c in text:
        if c.isascii():
            out.append(c)
        elif unicodedata.category(c)[0] == "L":  # é -> e; a letter of another script (Cyrillic, CJK) -> None
            base = "".join(b for b in unicodedata.normalize("NFKD", c) if not unicodedata.combining(b))
            if not (base.isascii() and base.isalpha()):
                return None
            out.append(base)
        elif unicodedata.category(c)[0] == "N":
            return None  # ½, ², Roman numeral signs: no single reading
        elif not unicodedata.combining(c):
            out.append(" ")  # other symbols and punctuation
    return "".join(out)


_SYMBOL = re.compile(r"[@#$%&*/\\<>=_|~^{}\[\]+]")
_ODD_NUMBER = re.compile(r"\d[^\d\s,.!?;:]|\d[.,:]\d")  # 3rd, 1:30, 2.5, 1,000: no single reading
_DIGITS = re.compile(r"\d+")
_NOT_LETTER = re.compile(r"[^A-Za-z' ]+")


def normalise(sentence: str) -> str | None:
    """The ASR target for one sentence, or None when it cannot be spoken unambiguously."""
    text = _to_ascii(sentence)
    if text is None or _ABBREVIATION.search(text) or _SYMBOL.search(text):
        return None
    text = text.replace("-", " ")
    if _ODD_NUMBER.search(text):
        return None
    if _DIGITS.search(text):
        text = _DIGITS.sub(lambda m: " " + number_to_words(int(m.group())) + " " if len(m.group()) <= 6 else " @ ", text)
        if "@" in text:
            return None
    text = _NOT_LETTER.sub(" ", text).upper()
    words = [w.strip("'") for w in text.split()]
    words = [w for w in words if w]
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    return " ".join(words)


def split_sentences(text: str) -> list[str]:
    """Sentences of a block of prose: lines joined, split after . ! ? before a capital or a quote."""
    out = []
    for paragraph in re.split(r"\n\s*\n", text):
        joined = " ".join(paragraph.split())
        out.extend(s.strip() for s in _SENTENCE_END.split(joined) if s.strip())
    return out


# ---- the fortune collections -------------------------------------------------------------------

# Collections that other packages put beside the fortunes-min/fortunes files, read as their own
# sources (or, for fortunes-mario, not at all: it is Portuguese).
_OTHER_FORTUNE_FILES = ("anarchism", "bofh-excuses", "debian-hints")
_FOREIGN_FORTUNE_PREFIXES = ("mario.",)


def _fortune_entries(path: Path) -> Iterator[str]:
    raw = path.read_text(encoding="utf-8", errors="replace")
    for entry in raw.split("\n%\n"):
        yield "\n".join(ln.strip() for ln in entry.splitlines() if not ln.strip().startswith("--"))


def _fortune_sentences(paths: Iterable[Path]) -> Iterator[str]:
    for path in paths:
        for entry in _fortune_entries(path):
            for sentence in _SENTENCE_END.split(" ".join(entry.split())):
                yield sentence.strip(" \"'()")


def _fortune_files(fortunes_dir: Path) -> list[Path]:
    if not fortunes_dir.is_dir():
        return []
    return [p for p in sorted(fortunes_dir.iterdir())
            if p.is_file() and p.suffix not in (".dat", ".u8") and not p.is_symlink()
            and p.name not in _OTHER_FORTUNE_FILES and not p.name.startswith(_FOREIGN_FORTUNE_PREFIXES)]


def read_fortune_sentences(fortunes_dir: Path = FORTUNES_DIR) -> list[str]:
    """All distinct normalised sentences from the fortunes and fortunes-min files, sorted (a stable order for seeding).

    Attribution lines ("-- Mark Twain") and offensive collections (the off/ folder, other languages'
    folders) are skipped, and so are the collections of other packages that share the folder.
    """
    return sorted({t for s in _fortune_sentences(_fortune_files(fortunes_dir)) if (t := normalise(s))})


def _read_fortune_file(name: str, header: str | None = None) -> Callable[[], Iterator[str]]:
    def read() -> Iterator[str]:
        path = FORTUNES_DIR / name
        if not path.is_file():
            return
        for entry in _fortune_entries(path):
            if header:
                entry = re.sub(header, "", entry)
            yield from split_sentences(entry)
    return read


def _read_tfortunes() -> Iterator[str]:
    path = Path("/usr/share/games/tfortunes/epigrams/en.tfortunes")
    if not path.is_file():
        return
    for entry in re.split(r"^----.*$", path.read_text(encoding="utf-8", errors="replace"), flags=re.M):
        entry = re.sub(r"\s--\s+[^\n]*$", "", entry.strip())  # "... nothing to say.   -- The Juice Media (2016)"
        yield from split_sentences(entry)


# ---- WordNet: the example sentences of its glosses ---------------------------------------------

WORDNET_DIR = Path("/usr/share/wordnet")


def _read_wordnet() -> Iterator[str]:
    for pos in ("noun", "verb", "adj", "adv"):
        path = WORDNET_DIR / f"data.{pos}"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(" ") or "|" not in line:
                continue  # the licence header
            gloss = line.split("|", 1)[1]
            for example in re.findall(r'"([^"]+)"', gloss):
                example = re.split(r'\s+-+\s*[A-Z]|"-', example)[0]  # an attribution: "... fate" -- Ernest K. Gann
                yield example.strip(" ,;")


# ---- game prose ----------------------------------------------------------------------------------

CDDA_DIR = Path("/usr/share/games/cataclysm-dda")
ENDLESS_SKY_DIR = Path("/usr/share/games/endless-sky/data")
CRAWL_DIR = Path("/usr/share/crawl/dat")

_CDDA_SKIP_KEYS = {"rows", "picture", "id", "type", "copy-from", "looks_like", "abstract", "flags", "name",
                   "str_pl", "str_sp", "blueprint_name", "sound", "sound_fail", "signage"}
_MARKUP = re.compile(r"</?(color|good|bad|info|bold|ok|warning)[^>]*>|</>")


def _read_cataclysm() -> Iterator[str]:
    if not CDDA_DIR.is_dir():
        return

    texts: list[str] = []

    def collect(pairs: list[tuple[str, object]]) -> None:
        # Called for each JSON object, innermost first: keep its strings (and lists of strings) but for
        # the keys that hold names, ids and map drawings. Nothing is built, so a 26 MB tree costs little.
        for key, value in pairs:
            if key in _CDDA_SKIP_KEYS or key.startswith("//"):
                continue
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, list):
                texts.extend(v for v in value if isinstance(v, str))
                texts.extend(w for v in value if isinstance(v, list) for w in v if isinstance(w, str))

    for path in sorted(CDDA_DIR.rglob("*.json")):
        texts.clear()
        try:
            json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=collect)
        except (ValueError, UnicodeDecodeError):
            continue
        for text in texts:
            if text.count(" ") >= MIN_WORDS - 1:
                yield from split_sentences(_MARKUP.sub("", text).replace("\\n", "\n"))


def _read_endless_sky() -> Iterator[str]:
    if not ENDLESS_SKY_DIR.is_dir():
        return
    for path in sorted(ENDLESS_SKY_DIR.rglob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line.startswith("#"):
                continue
            # prose is in `backquotes` (it may hold "double quotes") or in "double quotes" after a keyword
            for text in re.findall(r"`([^`]*)`", line) or re.findall(r'"([^"]*\s[^"]*\s[^"]*\s[^"]*)"', line):
                yield from split_sentences(text)


def _read_crawl() -> Iterator[str]:
    for folder in ("descript", "database"):
        if not (CRAWL_DIR / folder).is_dir():
            continue
        for path in sorted((CRAWL_DIR / folder).glob("*.txt")):  # the top folders are English; translations are below
            raw = path.read_text(encoding="utf-8", errors="replace")
            for entry in raw.split("%%%%"):
                lines = entry.strip().splitlines()[1:]  # the first line is the key
                # drop comments, attributions ("    -Ovid, _Metamorphoses_") and directives
                body = "\n".join(ln for ln in lines if not re.match(r"\s*(#|-\S|trans\.|[A-Z_]+:|\{\{|\}\})", ln))
                yield from split_sentences(body)


# ---- small collections ----------------------------------------------------------------------------

DHAMMAPADA = Path("/usr/share/display-dhammapada/dhammapada-english-transl.txt")


def _read_dhammapada() -> Iterator[str]:
    if not DHAMMAPADA.is_file():
        return
    text = DHAMMAPADA.read_text(encoding="utf-8", errors="replace")
    start = max(text.find("\n1. The Pairs"), 0)  # after the translator's introduction
    for verse in re.split(r"\n\s*\n", text[start:]):
        yield from split_sentences(re.sub(r"\s\d+\s*$", "", verse))  # the verse number ends it


def _read_chatterbot() -> Iterator[str]:
    import importlib.util

    spec = importlib.util.find_spec("chatterbot_corpus")
    if spec is None or not spec.submodule_search_locations:
        return
    import yaml

    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "english"
    for path in sorted(root.glob("*.yml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8", errors="replace"),
                             Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: ten times faster
        except yaml.YAMLError:
            continue
        for dialogue in (data or {}).get("conversations") or ():  # [["Hello", "Hi", "How are you?"], ...]
            for line in dialogue if isinstance(dialogue, list) else ():
                if isinstance(line, str):
                    yield from split_sentences(line)


def _read_pyjokes() -> Iterator[str]:
    try:
        from pyjokes import jokes_en
    except ImportError:
        return
    for name in sorted(n for n in dir(jokes_en) if not n.startswith("_")):
        jokes = getattr(jokes_en, name)
        if isinstance(jokes, (list, tuple)):
            for joke in jokes:
                if isinstance(joke, str):
                    yield from split_sentences(joke)
        elif isinstance(jokes, dict):
            for value in jokes.values():
                for joke in value if isinstance(value, (list, tuple)) else ():
                    if isinstance(joke, str):
                        yield from split_sentences(joke)


# ---- the sources and their filters ---------------------------------------------------------------


@dataclass(frozen=True)
class TextSource:
    name: str
    licence: str
    read: Callable[[], Iterable[str]]
    apt: tuple[str, ...] = ()  # the Debian packages it reads (deps.APT_PACKAGES installs them)
    pip: tuple[str, ...] = ()  # the PyPI packages it reads (deps.PIP_PACKAGES)
    prose: bool = True  # sentences must start with a capital and end with . ! ? (drops titles, item names)


SOURCES = (
    TextSource("fortunes", "BSD-3-clause (the collection); quotes public domain or fair use",
               lambda: _fortune_sentences(_fortune_files(FORTUNES_DIR)), apt=("fortunes", "fortunes-min"), prose=False),
    TextSource("anarchism", "GPL-3+ (quotes public domain or fair use)", _read_fortune_file("anarchism"),
               apt=("fortune-anarchism",)),
    TextSource("bofh-excuses", "public domain", _read_fortune_file("bofh-excuses", r"BOFH excuse #\d+:"),
               apt=("fortunes-bofh-excuses",), prose=False),
    TextSource("tfortunes", "GPL-3 (epigrams public domain)", _read_tfortunes, apt=("tfortunes",), prose=False),
    TextSource("dhammapada", "public domain (John Richards' translation, 1993)", _read_dhammapada,
               apt=("display-dhammapada",)),
    TextSource("wordnet", "WordNet 3.0 licence (permissive, BSD-like)", _read_wordnet, apt=("wordnet-base",),
               prose=False),
    TextSource("cataclysm", "CC-BY-SA-3.0", _read_cataclysm, apt=("cataclysm-dda-data",)),
    TextSource("endless-sky", "GPL-3+", _read_endless_sky, apt=("endless-sky-data",)),
    TextSource("crawl", "GPL-2+", _read_crawl, apt=("crawl-common",)),
    TextSource("chatterbot", "BSD-3-clause", _read_chatterbot, pip=("chatterbot-corpus",), prose=False),
    TextSource("pyjokes", "BSD-3-clause", _read_pyjokes, pip=("pyjokes",), prose=False),
)
# Everything the sources read, with the word lists that vet them.
TEXT_APT_PACKAGES = tuple(dict.fromkeys([p for s in SOURCES for p in s.apt] + ["wamerican", "wbritish"]))
TEXT_PIP_PACKAGES = tuple(dict.fromkeys(p for s in SOURCES for p in s.pip))

WORD_LISTS = (Path("/usr/share/dict/american-english"), Path("/usr/share/dict/british-english"))  # wamerican, wbritish
MAX_UNKNOWN_SHARE = 0.15  # of a sentence's words not in the word lists (names, coinages); one is always allowed
# Early Modern English (the King James style some quotes use): no modern speaker says these.
_ARCHAIC = frozenset("THEE THOU THY THINE THYSELF YE HATH DOTH SAITH SHALT WILT HAST DOST CANST WOULDST "
                     "COULDST SHOULDST DIDST UNTO THEREOF WHEREOF WHENCE HITHER THITHER WHITHER".split())
# Slurs and the strongest profanity: the game dialogue and the fortunes have some; the corpus needs none.
_OFFENSIVE = re.compile(r"FUCK|SHIT|CUNT|NIGGER|NIGGA|FAGGOT|COCKSUCK|MOTHERF|\b(FAGS?|RETARDS?|WHORES?|SLUTS?|"
                        r"BITCH\w*|DICKHEADS?|WANKERS?|TWATS?|KIKES?|SPICS?|GOOKS?|TRANN(Y|IES))\b")
_PROSE_START = re.compile(r"^[\"'(]*[A-Z0-9]")
_PROSE_END = re.compile(r"[.!?][\"')]*$")
MAX_PER_OPENING = 12  # sentences of one source sharing their first four words (templated item texts)


@functools.lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    words = set()
    for path in WORD_LISTS:
        if path.is_file():
            words.update(w.strip().upper() for w in path.read_text(encoding="utf-8", errors="replace").splitlines())
    return frozenset(w for w in words if w.replace("'", "").isascii())


def _known(word: str, known: frozenset[str]) -> bool:
    if word in known:
        return True
    for suffix in ("'S", "'LL", "'VE", "'D", "'RE", "N'T", "S'"):  # the word list has few contractions
        if word.endswith(suffix) and word[: -len(suffix)] in known:
            return True
    return False


def is_modern_english(text: str, known: frozenset[str] | None = None) -> bool:
    """Whether a normalised sentence reads as modern, inoffensive English: nearly all words known, none archaic.

    Foreign and Middle English text has most words unknown; a name or a coinage is one unknown word."""
    known = _known_words() if known is None else known
    words = text.split()
    if any(w in _ARCHAIC or (len(w) == 1 and w not in "AI") for w in words) or _OFFENSIVE.search(text):
        return False  # archaic, a letter on its own ("Q: ...", "ba-a-a-d", "plan B": no one reading), or a slur
    if not known:
        return True  # no word list here: keep what normalise kept
    allowed = max(1, int(MAX_UNKNOWN_SHARE * len(words)))
    unknown = [w for w in words if w not in known]
    return len(unknown) <= allowed or sum(not _known(w, known) for w in unknown) <= allowed


def _source_sentences(source: TextSource) -> list[str]:
    known = _known_words()
    out = set()
    for raw in set(source.read()):
        raw = raw.strip()
        if source.prose and not (_PROSE_START.match(raw) and _PROSE_END.search(raw)):
            continue
        text = normalise(raw.strip(" \"'()"))
        if text and is_modern_english(text, known):
            out.add(text)
    return _cap_templates(sorted(out))


def _cap_templates(sentences: list[str]) -> list[str]:
    """At most MAX_PER_OPENING sentences per four-word opening, spread evenly over the sorted run."""
    groups: dict[str, list[str]] = {}
    for s in sentences:
        groups.setdefault(" ".join(s.split()[:4]), []).append(s)
    keep = set()
    for group in groups.values():
        step = len(group) / MAX_PER_OPENING
        keep.update(group if step <= 1 else (group[int(i * step)] for i in range(MAX_PER_OPENING)))
    return [s for s in sentences if s in keep]


@functools.lru_cache(maxsize=1)
def _all_sources() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((s.name, tuple(_source_sentences(s))) for s in SOURCES)


def read_source_sentences() -> dict[str, list[str]]:
    """Source name -> its distinct normalised sentences, sorted. A source whose package is missing is empty.

    A sentence may appear under more than one source; ``read_corpus_sentences`` counts it once."""
    return {name: list(sentences) for name, sentences in _all_sources()}


def read_corpus_sentences() -> list[str]:
    """Every distinct normalised sentence of every source, sorted (a stable order for seeding)."""
    return sorted({t for _, sentences in _all_sources() for t in sentences})
