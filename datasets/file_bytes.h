// Whole-file byte I/O for the dataset readers, gunzipping by content (the gzip magic bytes), not
// by name, so a renamed or already-decompressed file still reads. Thread-compatible: no state.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "core/status.h"

namespace flotilla {

// Closes a std::FILE when it goes out of scope: std::unique_ptr<std::FILE, FileCloser>.
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The file's bytes, decompressed when they start with the gzip magic (concatenated gzip members
// are joined, as gunzip does). NotFound when the path does not exist; FailedPrecondition when it
// exists but cannot be read (a directory, no permission); DataLoss for a truncated or corrupt
// gzip stream or data after its end. Every message names the path.
StatusOr<std::string> read_file_bytes(const std::string& path);

// read_file_bytes without the file: `bytes` decompressed when they start with the gzip magic,
// else unchanged. `name` (the path, or wherever the bytes came from) starts every message. Lets
// the gzip path be tested and fuzzed on bytes in memory.
StatusOr<std::string> decompress_if_gzip(std::string bytes, const std::string& name);

// Writes `bytes` to `path` (replacing it), gzip-compressed when `gzip` is true. Tests and tools
// use it to make small data sets. Unavailable when the file cannot be written.
Status write_file_bytes(const std::string& path, const std::string& bytes, bool gzip);

}  // namespace flotilla
