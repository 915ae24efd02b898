"""Sentences for the speech corpus: Debian fortunes, split and normalised into ASR targets.

Normalisation (the convention every transcript in the corpus follows):
- UPPER CASE, as LibriSpeech and the icefall recipes write it, so real corpora read through lhotse
  share one vocabulary with this one;
- only the letters A-Z, the apostrophe and single spaces;
- whole numbers up to 999999 are spelled out ("42" -> "FORTY TWO"); a sentence with any other digit
  form (decimals, times, ordinals like 3rd, years with dashes) is dropped, because a synthesiser would
  speak it in a way the transcript cannot predict;
- hyphens become spaces; other punctuation is dropped; a sentence with an abbreviation or acronym
  (Mr., U.S., NASA, e.g.) is dropped for the same reason as odd numbers.
The synthesisers are fed the normalised text itself, so what is spoken is what is written.
"""

from __future__ import annotations

import re
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
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


def normalise(sentence: str) -> str | None:
    """The ASR target for one sentence, or None when it cannot be spoken unambiguously."""
    if _ABBREVIATION.search(sentence) or re.search(r"[@#$%&*/\\<>=_|~^{}\[\]+]", sentence):
        return None
    text = sentence.replace("’", "'").replace("-", " ")
    if re.search(r"\d[^\d\s,.!?;:]|\d[.,:]\d", text):  # 3rd, 1:30, 2.5, 1,000: no single reading
        return None
    text = re.sub(r"\d+", lambda m: " " + number_to_words(int(m.group())) + " " if len(m.group()) <= 6 else " @ ", text)
    if "@" in text:
        return None
    text = re.sub(r"[^A-Za-z' ]+", " ", text).upper()
    words = [w.strip("'") for w in text.split()]
    words = [w for w in words if w]
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    return " ".join(words)


def read_fortune_sentences(fortunes_dir: Path = FORTUNES_DIR) -> list[str]:
    """All distinct normalised sentences from the fortune files, sorted (a stable order for seeding).

    Attribution lines ("-- Mark Twain") and offensive collections (the off/ folder) are skipped.
    """
    sentences: set[str] = set()
    for path in sorted(fortunes_dir.iterdir()):
        if not path.is_file() or path.suffix in (".dat", ".u8") or path.is_symlink():
            continue
        raw = path.read_text(encoding="utf-8", errors="replace")
        for entry in raw.split("\n%\n"):
            lines = [ln.strip() for ln in entry.splitlines() if not ln.strip().startswith("--")]
            for sentence in _SENTENCE_END.split(" ".join(lines)):
                text = normalise(sentence.strip(" \"'()"))
                if text:
                    sentences.add(text)
    return sorted(sentences)
