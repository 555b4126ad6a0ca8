// Text helpers the tests share (one definition: a target's test files compile together in a
// unity build, cmake/FlotillaUnity.cmake).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace flotilla::test_text {

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The whole file as bytes; empty when it cannot be read.
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace flotilla::test_text
