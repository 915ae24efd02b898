"""How events are printed: one line of text for `run` and `live`, one JSON object per line for
their ``--jsonl``. The C++ example app prints the same lines (runtime/examples/event_format.cc);
tests/test_example_app.py holds the two to each other on the demo clip.
"""

from __future__ import annotations

import json

from .results import FinalEvent, PartialEvent, SpeakerEvent, StreamEvent, TagEvent

PARTIAL_TAIL = 70  # a partial shows its last characters: it redraws in place on one terminal line


def format_event(event: StreamEvent) -> str:
    """The event as one line of text: ``[start - end]  who: text`` (times in seconds)."""
    if isinstance(event, PartialEvent):
        return f"  ... {event.text[-PARTIAL_TAIL:]}"
    span = f"[{event.start_s:7.2f} - {event.end_s:7.2f}]"
    if isinstance(event, FinalEvent):
        return f"{span} {event.speaker or 'unknown':>10}: {event.text}"
    if isinstance(event, TagEvent):
        return f"{span} {'tag':>10}: {event.label} ({event.score:.2f})"
    if isinstance(event, SpeakerEvent):
        who = f"{event.name} ({event.score:.2f})" if event.name else f"unknown (best {event.score:.2f})"
        return f"{span} {'speaker':>10}: {who}"
    raise TypeError(f"not a stream event: {event!r}")


def json_line(event: StreamEvent, file: str | None = None) -> str:
    """The event as one JSON line (Event.as_json: times in integer ms), led by ``"file"`` if given."""
    return json.dumps({"file": file, **event.as_json()} if file is not None else event.as_json())
