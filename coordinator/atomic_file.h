// Writing a file so that a crash at any moment leaves either the old file or the new one, never
// a mix or a truncated one: write PATH.tmp, fsync it, rename it over PATH, fsync the folder (so
// the rename itself survives a power loss). Checkpoints and the rewritten metrics files use it.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace flotilla {

// Unavailable naming the path and the system's reason on any failure; PATH.tmp is removed then.
// The folder must exist. Not safe against two writers of the same path at once.
Status write_file_atomically(const std::string& path, std::string_view bytes);

// The whole file. NotFound when it does not exist, Unavailable when it cannot be read.
StatusOr<std::string> read_whole_file(const std::string& path);

}  // namespace flotilla
