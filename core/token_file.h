// Reading a shared secret (an access token) from a file: its first line, without surrounding
// white space. A file keeps it out of command lines, which other users of a host can read.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"

namespace flotilla {

// InvalidArgument naming `flag` and `path` when the file cannot be read, holds no token, or one of
// fewer than `min_length` characters.
StatusOr<std::string> read_token_file(const std::string& path, const std::string& flag, size_t min_length);

}  // namespace flotilla
