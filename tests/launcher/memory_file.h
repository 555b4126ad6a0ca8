// MemoryFile: an in-memory file (memfd) standing in for the launcher's stdout or a terminal, so a
// test reads back exactly the bytes that were written to its descriptor.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <string>

namespace flotilla::testing {

class MemoryFile {
 public:
  explicit MemoryFile(const char* name = "sink") : fd_(::memfd_create(name, MFD_CLOEXEC)) {}
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  int fd() const { return fd_; }
  // Everything written so far.
  std::string text() const {
    std::string out;
    char buffer[4096];
    ssize_t n;
    off_t offset = 0;
    while ((n = ::pread(fd_, buffer, sizeof buffer, offset)) > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      offset += n;
    }
    return out;
  }

 private:
  int fd_;
};

}  // namespace flotilla::testing
