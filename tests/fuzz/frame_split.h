// How envelope_fuzzer reads one byte string as a multipart message, and how fuzz_seed_corpus
// writes real messages in that form. Kept trivial so that libFuzzer's mutations (byte flips,
// insertions, crossovers) change frame counts and sizes as well as their contents:
//
//   byte 0                  n, the number of frames (0..255)
//   frames 0 .. n-2         each a 4-byte little-endian length L, then L bytes
//   frame n-1               every byte left
//
// Every byte string splits: a length past the end is clamped to what is left, and frames after
// the input runs out are empty. join_frames(frames) splits back into exactly `frames`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flotilla::fuzz {

inline std::vector<std::string_view> split_frames(std::string_view input) {
  std::vector<std::string_view> frames;
  if (input.empty()) return frames;
  const size_t n = static_cast<unsigned char>(input[0]);
  input.remove_prefix(1);
  for (size_t i = 0; i + 1 < n; ++i) {
    uint32_t length = 0;
    if (input.size() >= 4) {
      for (int b = 3; b >= 0; --b) length = (length << 8) | static_cast<unsigned char>(input[b]);
      input.remove_prefix(4);
    } else {
      input = {};
    }
    const size_t take = length < input.size() ? length : input.size();
    frames.push_back(input.substr(0, take));
    input.remove_prefix(take);
  }
  if (n > 0) frames.push_back(input);
  return frames;
}

// The inverse of split_frames; at most 255 frames, each but the last under 4 GiB.
inline std::string join_frames(const std::vector<std::string>& frames) {
  std::string out(1, static_cast<char>(frames.size()));
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i + 1 < frames.size()) {
      const auto length = static_cast<uint32_t>(frames[i].size());
      for (int b = 0; b < 4; ++b) out.push_back(static_cast<char>((length >> (8 * b)) & 0xff));
    }
    out += frames[i];
  }
  return out;
}

}  // namespace flotilla::fuzz
