// Writing all of a buffer to a descriptor the launcher does not own (its stdout, a terminal).
#pragma once

#include <string_view>

namespace flotilla {

// Writes every byte of `data` to `fd`, retrying on EINTR and waiting for room when the
// descriptor is non-blocking (a parent shell may have made our stdout so). False when the reader
// is gone (EPIPE) or the descriptor is unusable.
bool write_fully(int fd, std::string_view data);

}  // namespace flotilla
