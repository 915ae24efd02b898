"""The corpus sentences (train/data/text.py): normalisation, splitting, filters, and every source read together.

The unit tests need nothing installed. The corpus tests read the Debian and PyPI packages that the corpus
builder installs (train/data/deps.py); where they are missing the fixture installs them when it can (root
with apt, as in CI) and skips loudly otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from train.data import deps, text
from train.data.text import is_modern_english, normalise, number_to_words, split_sentences

ASR_TEXT = re.compile(r"^[A-Z']+( [A-Z']+)*$")


def test_numbers_are_spelled_out():
    assert number_to_words(0) == "ZERO"
    assert number_to_words(19) == "NINETEEN"
    assert number_to_words(1042) == "ONE THOUSAND FORTY TWO"
    assert number_to_words(999_999) == "NINE HUNDRED NINETY NINE THOUSAND NINE HUNDRED NINETY NINE"
    with pytest.raises(ValueError):
        number_to_words(1_000_000)


def test_normalisation_examples():
    assert (normalise("I've got 99 problems, but a glitch ain't one!")
            == "I'VE GOT NINETY NINE PROBLEMS BUT A GLITCH AIN'T ONE")
    assert (normalise("“Glad to hear it,” he says — quietly… very quietly.")
            == "GLAD TO HEAR IT HE SAYS QUIETLY VERY QUIETLY")
    assert normalise("It’s a well-known fact, isn't it?") == "IT'S A WELL KNOWN FACT ISN'T IT"
    assert normalise("The café serves naïve tourists.") == "THE CAFE SERVES NAIVE TOURISTS"
    assert normalise("'Tis the season to be 'jolly'") == "TIS THE SEASON TO BE JOLLY"  # stray quotes go
    # no single reading: abbreviations, acronyms, times, decimals, ordinals, fractions, other scripts
    for sentence in ("Mr. Smith arrived at 3:30 today.", "The NASA rocket went up again today",
                     "The U.S. economy grew quickly.", "It weighs 2.5 kilograms or so.",
                     "He came 3rd in the race.", "Half is written ½ in a recipe.",
                     "Привет, как у тебя дела сегодня?", "Send it to me@example.com now"):
        assert normalise(sentence) is None, sentence
    assert normalise("Far too short.") is None  # under MIN_WORDS
    assert normalise(" ".join(["word"] * 25)) is None  # over MAX_WORDS
    # the same sentence punctuated differently is one target
    assert normalise("Wait -- what is that?!") == normalise("wait, what is that") == "WAIT WHAT IS THAT"


def test_splitting_keeps_quotes_and_initials():
    block = ('"Glad to hear it," he says. "Listen, we need to move."\nShe nods... Then she leaves! '
             "I read Arthur C. Clarke last year. Was it good? Yes.")
    assert split_sentences(block) == ['"Glad to hear it," he says.', '"Listen, we need to move."', "She nods...",
                                      "Then she leaves!", "I read Arthur C. Clarke last year.", "Was it good?", "Yes."]
    assert split_sentences("One paragraph ends here\n\nAnd another begins") == ["One paragraph ends here",
                                                                                "And another begins"]


def test_modern_english_filter():
    known = frozenset("THE CAT SAT ON MAT A DOG RAN HOME QUICKLY WITH HIS OWNER AND".split())
    assert is_modern_english("THE CAT SAT ON THE MAT", known)
    assert is_modern_english("THE CAT SAT ON THE MAT WITH KONRAD", known)  # one name is fine
    assert is_modern_english("THE DOG'S OWNER RAN HOME", known)  # possessives and contractions of known words
    assert not is_modern_english("O QUE EU ESTAVA SENDO", known)  # foreign
    assert not is_modern_english("THE CAT SAT ON THEE", known)  # archaic
    assert not is_modern_english("THE CAT SAT ON MAT B", known)  # a stray letter has no single reading
    assert not is_modern_english("THE FUCKING CAT SAT", known)


def test_templated_openings_are_capped():
    sentences = sorted(f"THIS IS A COPY OF BOOK {w}" for w in "ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN "
                       "ELEVEN TWELVE THIRTEEN FOURTEEN FIFTEEN SIXTEEN SEVENTEEN EIGHTEEN NINETEEN TWENTY".split())
    capped = text._cap_templates(sorted(sentences + ["SOMETHING ELSE ENTIRELY HERE"]))
    assert len(capped) == text.MAX_PER_OPENING + 1 and capped == sorted(capped)


def test_fortunes_ignore_other_packages_files(tmp_path: Path):
    (tmp_path / "wisdom").write_text("A penny saved is a penny earned.\n%\nLook before you leap, my friend.\n"
                                     "\t\t-- Somebody Wise\n%\n")
    (tmp_path / "mario.geral").write_text("Ele disse que eu estava sendo ridiculo hoje.\n%\n")  # Portuguese
    (tmp_path / "anarchism").write_text("Property is theft, said the old man.\n%\n")  # read as its own source
    (tmp_path / "wisdom.dat").write_bytes(b"\0\0")
    assert text.read_fortune_sentences(tmp_path) == ["A PENNY SAVED IS A PENNY EARNED",
                                                     "LOOK BEFORE YOU LEAP MY FRIEND"]


def test_the_builder_installs_every_text_package():
    assert set(text.TEXT_APT_PACKAGES) <= set(deps.APT_PACKAGES)
    assert all(p in deps._APT_PROBES for p in text.TEXT_APT_PACKAGES)
    pip_dists = {re.split(r"[=<>!~ ]", dist)[0] for dist, _ in deps.PIP_PACKAGES}
    assert set(text.TEXT_PIP_PACKAGES) <= pip_dists


# ---- every source, read from the installed packages ------------------------------------------------


def _missing() -> tuple[list[str], list[tuple[str, str]]]:
    import importlib.util

    apt = [p for p in text.TEXT_APT_PACKAGES if not Path(deps._APT_PROBES[p]).exists()]
    pip = [(d, m) for d, m in deps.PIP_PACKAGES if re.split(r"[=<>!~ ]", d)[0] in text.TEXT_PIP_PACKAGES
           and importlib.util.find_spec(m) is None]
    return apt, pip


@pytest.fixture(scope="module")
def sources() -> dict[str, list[str]]:
    apt, pip = _missing()
    if apt or pip:
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            missing = apt + [d for d, _ in pip]
            pytest.skip(f"SKIPPED: text packages missing ({missing}); the builder installs them as root")
        deps.ensure_apt_packages(tuple(apt))
        deps.ensure_pip_packages(tuple(pip))
        text._all_sources.cache_clear()
    return text.read_source_sentences()


def test_every_source_yields_sentences(sources):
    assert set(sources) == {s.name for s in text.SOURCES}
    for name, sentences in sources.items():
        assert len(sentences) >= 150, (name, len(sentences))
        assert sentences == sorted(set(sentences)), name
    for name in ("wordnet", "cataclysm", "endless-sky"):  # the big ones
        assert len(sources[name]) > 8000, (name, len(sources[name]))


def test_corpus_sentences_are_sorted_distinct_asr_targets(sources):
    corpus = text.read_corpus_sentences()
    assert corpus == sorted(set(corpus))
    assert set(corpus) == {s for sentences in sources.values() for s in sentences}
    for sentence in corpus:
        assert ASR_TEXT.match(sentence), sentence
        assert text.MIN_WORDS <= len(sentence.split()) <= text.MAX_WORDS, sentence
    assert len(corpus) > 60_000
    assert len(corpus) > 3 * len(text.read_fortune_sentences())
    assert text.read_corpus_sentences() == corpus  # stable: the builder seeds from positions


def test_corpus_has_no_archaic_foreign_or_offensive_text(sources):
    corpus = set(text.read_corpus_sentences())
    assert not any(w in text._ARCHAIC for s in corpus for w in s.split())
    assert not any(text._OFFENSIVE.search(s) for s in corpus)
    assert "ELE DISSE QUE EU ESTAVA SENDO RID CULO NEM TODOS ME CONHECIAM AINDA" not in corpus  # fortunes-mario
