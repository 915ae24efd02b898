"""Result and event types of the streaming API: small frozen dataclasses, times in seconds."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Token:
    text: str  # the BPE piece ("▁" marks a word start)
    id: int
    time_s: float  # when it was emitted, from the stream start


@dataclass(frozen=True)
class Word:
    word: str
    start_s: float  # the frame its first token was emitted, from the stream start
    end_s: float  # the end of the frame its last token was last emitted


@dataclass(frozen=True)
class Transcript:
    text: str
    tokens: tuple[Token, ...]
    start_s: float
    end_s: float
    segment: int  # index of the segment (utterance) within the stream
    is_final: bool
    words: tuple[Word, ...] = ()  # the words of `text`, with their times


@dataclass(frozen=True)
class Tag:
    label: str
    index: int
    score: float  # mean probability over the rolling window


@dataclass(frozen=True)
class SpeakerMatch:
    name: str | None  # None: nobody enrolled scores at or above the threshold
    score: float  # cosine similarity with the best enrolled speaker


# ---- events yielded by Engine.events(): each has a `type` for JSON output ----

@dataclass(frozen=True)
class Event:
    def as_dict(self) -> dict:
        return {"type": self.type, **asdict(self)}  # type: ignore[attr-defined]

    def as_json(self) -> dict:
        """The CLI's JSON-lines form: times in integer milliseconds (start_ms, end_ms)."""
        d = self.as_dict()
        for item in (d, *d.get("words", ())):
            for key in ("start_s", "end_s"):
                item[key[:-2] + "_ms"] = int(round(item.pop(key) * 1000))
        if "score" in d:
            d["score"] = round(d["score"], 4)
        return d


@dataclass(frozen=True)
class PartialEvent(Event):
    text: str
    start_s: float
    end_s: float
    type = "partial"


@dataclass(frozen=True)
class FinalEvent(Event):
    text: str
    start_s: float
    end_s: float
    speaker: str | None  # identified speaker of the utterance, None if unknown or no store
    words: tuple[Word, ...] = ()  # with start and end times (JSON: start_ms, end_ms)
    type = "final"


@dataclass(frozen=True)
class TagEvent(Event):
    label: str
    score: float  # peak window score
    start_s: float
    end_s: float
    type = "tag"


@dataclass(frozen=True)
class SpeakerEvent(Event):
    name: str | None
    score: float
    start_s: float
    end_s: float
    type = "speaker"


StreamEvent = PartialEvent | FinalEvent | TagEvent | SpeakerEvent  # what Engine.events yields
