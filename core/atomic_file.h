// Writing a file so that a crash at any moment leaves either the old file or the new one, never
// a mix or a truncated one: write PATH.tmp, fsync it, rename it over PATH, fsync the folder (so
// the rename itself survives a power loss). Checkpoints and the rewritten metrics files use it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace flotilla {

// Unavailable naming the path and the system's reason on any failure; PATH.tmp is removed then.
// The folder must exist. Not safe against two writers of the same path at once.
Status write_file_atomically(const std::string& path, std::string_view bytes);

// Appends bytes to the file being written; Unavailable on a write failure.
using ByteWriter = std::function<Status(const void* data, size_t size)>;

// The same, with the bytes produced piece by piece: `produce` calls its writer as often as it
// needs, and the file never has to exist whole in memory (checkpoints of large models). An error
// from `produce` (its own, or a writer's it returned) fails the write as an I/O failure does.
Status write_file_atomically(const std::string& path, const std::function<Status(const ByteWriter& write)>& produce);

// The whole file. NotFound when it does not exist, Unavailable when it cannot be read.
StatusOr<std::string> read_whole_file(const std::string& path);

}  // namespace flotilla
