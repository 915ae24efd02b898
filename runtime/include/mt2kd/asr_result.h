// What the recogniser has for one segment of a stream (Stream::GetResult), times in seconds from
// the stream start.
#pragma once

#include <string>
#include <vector>

namespace mt2kd {

// A word of a result with its times: from the frame its first token was emitted to the end of the
// frame its last token was last emitted.
struct WordResult {
  std::string word;
  double start_s = 0, end_s = 0;
};

struct AsrResult {
  std::string text;
  std::vector<std::string> tokens;
  std::vector<int> token_ids;
  std::vector<double> token_times_s;  // when each token was emitted, seconds from the stream start
  std::vector<WordResult> words;      // the words of `text`, with times
  double start_s = 0, end_s = 0;      // the segment so far
  int segment = 0;                    // index of this segment within the stream
  bool is_final = false;              // the segment ended (endpoint or end of input)
};

}  // namespace mt2kd
