#include "event_format.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace mt2kd_example {
namespace {

using mt2kd::StreamEvent;
using mt2kd::StreamEventType;

constexpr size_t kPartialTail = 70;  // characters of a partial shown (Python: PARTIAL_TAIL)

std::string Printf(const char *format, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, a, b);
  return buf;
}

// Text is UTF-8; Python pads and slices by characters, not bytes.
bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t Characters(const std::string &s) {
  size_t n = 0;
  for (char c : s) n += !IsContinuationByte(c);
  return n;
}

std::string PadLeft(const std::string &s, size_t width) {  // Python's f"{s:>10}"
  const size_t n = Characters(s);
  return n >= width ? s : std::string(width - n, ' ') + s;
}

std::string LastCharacters(const std::string &s, size_t count) {  // Python's s[-count:]
  size_t at = s.size(), seen = 0;
  while (at > 0 && seen < count) {
    --at;
    if (!IsContinuationByte(s[at])) ++seen;
  }
  return s.substr(at);
}

// Python's json.dumps of a str: ASCII only, other characters as \uXXXX (surrogate pairs above U+FFFF).
std::string JsonString(const std::string &s) {
  std::string out = "\"";
  auto escape = [&](unsigned code) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\u%04x", code);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    unsigned code = c;
    size_t len = 1;
    if (c >= 0xF0) code = c & 0x07, len = 4;
    else if (c >= 0xE0) code = c & 0x0F, len = 3;
    else if (c >= 0xC0) code = c & 0x1F, len = 2;
    for (size_t k = 1; k < len && i + k < s.size(); ++k) code = (code << 6) | (s[i + k] & 0x3F);
    i += len;
    if (code == '"') out += "\\\"";
    else if (code == '\\') out += "\\\\";
    else if (code == '\n') out += "\\n";
    else if (code == '\r') out += "\\r";
    else if (code == '\t') out += "\\t";
    else if (code == '\b') out += "\\b";
    else if (code == '\f') out += "\\f";
    else if (code < 0x20) escape(code);
    else if (code < 0x80) out += static_cast<char>(code);
    else if (code < 0x10000) escape(code);
    else {
      code -= 0x10000;
      escape(0xD800 + (code >> 10));
      escape(0xDC00 + (code & 0x3FF));
    }
  }
  return out + "\"";
}

std::string JsonName(const std::string &name) { return name.empty() ? "null" : JsonString(name); }

// Python's int(round(seconds * 1000)): round half to even, as nearbyint does in the default mode.
std::string Ms(double seconds) { return std::to_string(static_cast<long long>(std::nearbyint(seconds * 1000))); }

// Python's repr(round(score, 4)): four decimals, trailing zeros dropped down to one ("1.0").
std::string Score(float score) {
  std::string s = Printf("%.4f", score);
  while (s.size() > 2 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::string Times(const StreamEvent &e) { return "\"start_ms\": " + Ms(e.start_s) + ", \"end_ms\": " + Ms(e.end_s); }

}  // namespace

std::string FormatEvent(const StreamEvent &e) {
  const std::string span = Printf("[%7.2f - %7.2f]", e.start_s, e.end_s);
  switch (e.type) {
    case StreamEventType::kPartial:
      return "  ... " + LastCharacters(e.text, kPartialTail);
    case StreamEventType::kFinal:
      return span + " " + PadLeft(e.speaker.empty() ? "unknown" : e.speaker, 10) + ": " + e.text;
    case StreamEventType::kTagEnd:
      return span + " " + PadLeft("tag", 10) + ": " + e.tag_label + " (" + Printf("%.2f", e.tag_score) + ")";
    case StreamEventType::kSpeaker: {
      const std::string score = Printf("%.2f", e.speaker_score);
      const std::string who = e.speaker.empty() ? "unknown (best " + score + ")" : e.speaker + " (" + score + ")";
      return span + " " + PadLeft("speaker", 10) + ": " + who;
    }
    case StreamEventType::kTagStart:
      break;
  }
  return "";
}

std::string JsonLine(const StreamEvent &e, const std::string &file) {
  const std::string head = "{\"file\": " + JsonString(file) + ", \"type\": ";
  switch (e.type) {
    case StreamEventType::kPartial:
      return head + "\"partial\", \"text\": " + JsonString(e.text) + ", " + Times(e) + "}";
    case StreamEventType::kFinal: {
      std::string words;
      for (const auto &w : e.words)
        words += std::string(words.empty() ? "" : ", ") + "{\"word\": " + JsonString(w.word) +
                 ", \"start_ms\": " + Ms(w.start_s) + ", \"end_ms\": " + Ms(w.end_s) + "}";
      return head + "\"final\", \"text\": " + JsonString(e.text) + ", \"speaker\": " + JsonName(e.speaker) +
             ", \"words\": [" + words + "], " + Times(e) + "}";
    }
    case StreamEventType::kTagEnd:
      return head + "\"tag\", \"label\": " + JsonString(e.tag_label) + ", \"score\": " + Score(e.tag_score) + ", " +
             Times(e) + "}";
    case StreamEventType::kSpeaker:
      return head + "\"speaker\", \"name\": " + JsonName(e.speaker) + ", \"score\": " + Score(e.speaker_score) + ", " +
             Times(e) + "}";
    case StreamEventType::kTagStart:
      break;
  }
  return "";
}

}  // namespace mt2kd_example
