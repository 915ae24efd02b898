"""The C++ core's stream events (``_core.Stream.take_events``) as the Python event objects.

Every rule (when a partial, final, tag or speaker event happens) is decided in the core
(runtime/include/mt2kd/event_maker.h); this module only converts. Tag starts are not passed on:
`run`, `live`, the WebSocket server and its page show a tag once it has ended, with its start
and end, and their output must not change.
"""

from __future__ import annotations

from . import _core
from .results import FinalEvent, PartialEvent, SpeakerEvent, StreamEvent, TagEvent, Word

_T = _core.StreamEventType


def from_core(ev: "_core.StreamEvent", labels: list[str]) -> StreamEvent | None:
    """The Python event for a core event, or None for one the Python API does not yield (tag starts)."""
    if ev.type == _T.PARTIAL:
        return PartialEvent(ev.text, ev.start_s, ev.end_s)
    if ev.type == _T.FINAL:
        words = tuple(Word(w.word, w.start_s, w.end_s) for w in ev.words)
        return FinalEvent(ev.text, ev.start_s, ev.end_s, ev.speaker, words)
    if ev.type == _T.TAG_END:
        return TagEvent(labels[ev.tag_index], float(ev.tag_score), ev.start_s, ev.end_s)
    if ev.type == _T.SPEAKER:
        return SpeakerEvent(ev.speaker, float(ev.speaker_score), ev.start_s, ev.end_s)
    return None  # TAG_START
