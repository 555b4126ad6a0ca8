#include "coordinator/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flotilla {
namespace {

Status os_error(const std::string& what, const std::string& path, int err) {
  return unavailable_error("cannot " + what + " " + path + ": " + std::strerror(err));
}

// Closes on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close(2) reports write-back errors (NFS), so its result counts.
  int close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

Status write_and_sync(const std::string& tmp, std::string_view bytes) {
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return os_error("create", tmp, errno);
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write", tmp, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return os_error("fsync", tmp, errno);
  if (fd.close() != 0) return os_error("close", tmp, errno);
  return Status();
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  Status written = write_and_sync(tmp, bytes);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return os_error("rename " + tmp + " to", path, err);
  }
  // The rename lives in the folder's entry list: without this fsync a power loss can undo it.
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string folder = parent.empty() ? std::string(".") : parent.string();
  Fd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return os_error("open folder", folder, errno);
  if (::fsync(dir.get()) != 0) return os_error("fsync folder", folder, errno);
  return Status();
}

StatusOr<std::string> read_whole_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found_error(path + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unavailable_error("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return unavailable_error("cannot read " + path);
  return std::move(out).str();
}

}  // namespace flotilla
