#include "core/token_file.h"

#include <fstream>

namespace flotilla {

StatusOr<std::string> read_token_file(const std::string& path, const std::string& flag, size_t min_length) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line))
    return invalid_argument_error(flag + " " + path + ": cannot read it, or it is empty");
  const auto first = line.find_first_not_of(" \t\r\n");
  const auto last = line.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) return invalid_argument_error(flag + " " + path + " holds no token");
  std::string token = line.substr(first, last - first + 1);
  // Anyone who reaches the port may guess: a short token would be a password of a few tries.
  if (token.size() < min_length)
    return invalid_argument_error(flag + " " + path + ": the token has " + std::to_string(token.size()) +
                                  " characters, fewer than " + std::to_string(min_length) +
                                  " (make one with: openssl rand -hex 16 > " + path + ")");
  return token;
}

}  // namespace flotilla
