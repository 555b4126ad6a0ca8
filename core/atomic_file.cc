#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

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

Status write_all(int fd, const std::string& tmp, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("write", tmp, errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Status();
}

Status write_and_sync(const std::string& tmp, const std::function<Status(const ByteWriter&)>& produce) {
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return os_error("create", tmp, errno);
  RETURN_IF_ERROR(produce([&](const void* data, size_t size) { return write_all(fd.get(), tmp, data, size); }));
  if (::fsync(fd.get()) != 0) return os_error("fsync", tmp, errno);
  if (fd.close() != 0) return os_error("close", tmp, errno);
  return Status();
}

}  // namespace

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  return write_file_atomically(path, [bytes](const ByteWriter& write) { return write(bytes.data(), bytes.size()); });
}

Status write_file_atomically(const std::string& path, const std::function<Status(const ByteWriter& write)>& produce) {
  const std::string tmp = path + ".tmp";
  Status written = write_and_sync(tmp, produce);
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
  // Read into a string of the file's size: a stringstream held the bytes twice (its buffer, then
  // the string it returns), a model checkpoint's worth more at resume.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return unavailable_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error("stat", path, errno);
  std::string out(static_cast<size_t>(std::max<off_t>(st.st_size, 0)), '\0');
  size_t got = 0;
  auto read_some = [&](char* into, size_t size) -> StatusOr<size_t> {
    for (;;) {
      const ssize_t n = ::read(fd.get(), into, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return unavailable_error("cannot read " + path + ": " + std::strerror(errno));
    }
  };
  while (got < out.size()) {
    ASSIGN_OR_RETURN(size_t n, read_some(out.data() + got, out.size() - got));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  // A file that grew meanwhile, or one without a size: the rest, in pieces.
  char more[1 << 16];
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, read_some(more, sizeof more));
    if (n == 0) break;
    out.append(more, n);
  }
  return out;
}

}  // namespace flotilla
