// How the example app prints stream events: the same lines as `mt2kd-edge run` (text) and
// `mt2kd-edge run --jsonl` (one JSON object per line), written by mt2kd_edge/event_format.py on
// the Python side. tests/test_example_app.py holds the two to each other.
#pragma once

#include <string>

#include "mt2kd/stream_event.h"

namespace mt2kd_example {

// The event as one line of text, without a newline; "" for an event `run` does not print (tag
// starts: it prints a tag once it has ended).
std::string FormatEvent(const mt2kd::StreamEvent &event);
// The event as one JSON object, led by "file" (Python's json.dumps of Event.as_json(): the same
// keys in the same order, times in integer ms, scores rounded to 4 digits, non-ASCII escaped).
std::string JsonLine(const mt2kd::StreamEvent &event, const std::string &file);

}  // namespace mt2kd_example
