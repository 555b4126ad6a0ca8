// Reads a whole file, gunzipping it when it is gzip-compressed (by its magic bytes, not its name).
#pragma once

#include <string>

#include "core/status.h"

namespace flotilla {

// NotFound when the file cannot be opened; DataLoss for a truncated or corrupt gzip stream.
StatusOr<std::string> read_file_bytes(const std::string& path);

// Writes bytes, gzip-compressed when `gzip` is true (tests and tools make small data sets).
Status write_file_bytes(const std::string& path, const std::string& bytes, bool gzip);

}  // namespace flotilla
