#include "transport/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace flotilla {
namespace {

constexpr size_t kZ85KeyLength = 40;
// Key files are a few hundred bytes; anything much larger is not one (and is not read whole).
constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr char kZ85Alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

std::string errno_text() { return std::strerror(errno); }

struct KeyFileLines {
  std::string public_key;
  std::string secret_key;
};

// Reads a small file whole through one descriptor, so that the mode checked is the mode of the file
// read (no window between a stat and an open).
Status read_small_file(const std::string& what, const std::string& path, std::string* text, mode_t* mode) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found_error(what + " '" + path + "' does not exist");
    return unavailable_error("cannot open " + what + " '" + path + "': " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument_error(what + " '" + path + "' is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxKeyFileBytes) {
    ::close(fd);
    return invalid_argument_error(what + " '" + path + "' is " + std::to_string(st.st_size) +
                                  " bytes: too large to be a key file");
  }
  *mode = st.st_mode;
  text->clear();
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string error = errno_text();
      ::close(fd);
      return unavailable_error("cannot read " + what + " '" + path + "': " + error);
    }
    if (n == 0) break;
    text->append(buffer, static_cast<size_t>(n));
    if (text->size() > kMaxKeyFileBytes) break;
  }
  ::close(fd);
  return Status();
}

// The public-key and secret-key values of a zcert-style file (either may be absent).
StatusOr<KeyFileLines> parse_key_lines(const std::string& what, const std::string& path, const std::string& text) {
  KeyFileLines keys;
  std::istringstream in(text);
  int number = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++number;
    const std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');  // key names have no '='; Z85 values may, so split at the first
    if (eq == std::string::npos) continue;
    const std::string name = trim(line.substr(0, eq));
    if (name != "public-key" && name != "secret-key") continue;
    std::string value = trim(line.substr(eq + 1));
    const std::string where = what + " '" + path + "' line " + std::to_string(number);
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
      return invalid_argument_error(where + ": " + name + " must be a quoted Z85 string, like " + name + " = \"...\"");
    }
    value = value.substr(1, value.size() - 2);
    std::string& slot = name == "public-key" ? keys.public_key : keys.secret_key;
    if (!slot.empty()) return invalid_argument_error(where + ": a second " + name);
    if (value.empty()) return invalid_argument_error(where + ": " + name + " is empty");
    slot = value;
  }
  return keys;
}

StatusOr<KeyFileLines> read_key_file(const std::string& what, const std::string& path, mode_t* mode) {
  std::string text;
  RETURN_IF_ERROR(read_small_file(what, path, &text, mode));
  return parse_key_lines(what, path, text);
}

// Writes `text` to `path` through a temporary file in the same folder, created 0600 and given
// `mode` only once written, then renamed over `path`: readers see the old file or the new one.
Status write_file_atomically(const std::string& path, const std::string& text, mode_t mode) {
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);  // O_EXCL, mode 0600
  if (fd < 0) return unavailable_error("cannot create a temporary file for '" + path + "': " + errno_text());
  auto fail = [&](const std::string& doing) {
    const std::string error = errno_text();
    ::close(fd);
    ::unlink(temp.c_str());
    return unavailable_error("cannot " + doing + " '" + path + "': " + error);
  };
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    written += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("set the mode of");
  if (::fsync(fd) != 0) return fail("flush");
  if (::close(fd) != 0) {
    const std::string error = errno_text();
    ::unlink(temp.c_str());
    return unavailable_error("cannot write '" + path + "': " + error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string error = errno_text();
    ::unlink(temp.c_str());
    return unavailable_error("cannot rename a temporary file to '" + path + "': " + error);
  }
  // Make the rename itself durable; best effort (some file systems refuse to sync a folder).
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status();
}

std::string certificate_text(const CurveKeyPair& keys, bool with_secret) {
  std::string text = "#   ****  Generated by Flotilla (flotilla-keys)  ****\n";
  if (with_secret) {
    text +=
        "#   ZeroMQ CURVE **Secret** Certificate\n"
        "#   Keep it private (mode 0600): whoever holds it connects as this key's owner.\n";
  } else {
    text +=
        "#   ZeroMQ CURVE Public Certificate\n"
        "#   Safe to share: the coordinator's allowlist and the clients need only this.\n";
  }
  text += "\nmetadata\ncurve\n    public-key = \"" + keys.public_key + "\"\n";
  if (with_secret) text += "    secret-key = \"" + keys.secret_key + "\"\n";
  return text;
}

}  // namespace

StatusOr<CurveKeyPair> generate_curve_keypair() {
  if (!zmq_has("curve")) return failed_precondition_error("this libzmq was built without CURVE security");
  char public_key[kZ85KeyLength + 1] = {};
  char secret_key[kZ85KeyLength + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return internal_error(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  CurveKeyPair keys{public_key, secret_key};
  std::memset(secret_key, 0, sizeof secret_key);
  return keys;
}

Status check_curve_key(const std::string& z85, const std::string& what) {
  if (z85.size() != kZ85KeyLength) {
    return invalid_argument_error(what + " must be " + std::to_string(kZ85KeyLength) + " Z85 characters, got " +
                                  std::to_string(z85.size()));
  }
  for (size_t i = 0; i < z85.size(); ++i) {
    // Only the position: the key may be a secret one.
    if (z85[i] == '\0' || std::strchr(kZ85Alphabet, z85[i]) == nullptr) {
      return invalid_argument_error(what + " is not Z85: character " + std::to_string(i + 1) +
                                    " is outside the Z85 alphabet");
    }
  }
  uint8_t binary[32];
  if (zmq_z85_decode(binary, z85.c_str()) == nullptr) {
    return invalid_argument_error(what + " is not Z85: it does not decode to 32 bytes");
  }
  return Status();
}

Status check_curve_key_pair(const CurveKeyPair& keys, const std::string& what) {
  RETURN_IF_ERROR(check_curve_key(keys.public_key, what + " public key"));
  RETURN_IF_ERROR(check_curve_key(keys.secret_key, what + " secret key"));
  if (!zmq_has("curve")) return failed_precondition_error("this libzmq was built without CURVE security");
  char derived[kZ85KeyLength + 1] = {};
  if (zmq_curve_public(derived, keys.secret_key.c_str()) != 0) {
    return invalid_argument_error(what + " secret key is not a valid CURVE key");
  }
  if (keys.public_key != derived) {
    return invalid_argument_error(what + ": the public key does not match the secret key (mixed-up key files?)");
  }
  return Status();
}

StatusOr<CurveKeyPair> curve_keypair_from_secret(const std::string& secret_key, const std::string& what) {
  RETURN_IF_ERROR(check_curve_key(secret_key, what));
  if (!zmq_has("curve")) return failed_precondition_error("this libzmq was built without CURVE security");
  char derived[kZ85KeyLength + 1] = {};
  if (zmq_curve_public(derived, secret_key.c_str()) != 0) {
    return invalid_argument_error(what + " is not a valid CURVE secret key");
  }
  return CurveKeyPair{derived, secret_key};
}

Status write_key_pair(const CurveKeyPair& keys, const std::string& secret_path, const std::string& public_path) {
  RETURN_IF_ERROR(check_curve_key_pair(keys, "key pair for '" + secret_path + "'"));
  if (secret_path == public_path) return invalid_argument_error("secret and public key files are both " + secret_path);
  RETURN_IF_ERROR(write_file_atomically(secret_path, certificate_text(keys, true), 0600));
  return write_file_atomically(public_path, certificate_text(keys, false), 0644);
}

StatusOr<CurveKeyPair> read_secret_key_file(const std::string& path) {
  const std::string what = "secret key file";
  mode_t mode = 0;
  ASSIGN_OR_RETURN(KeyFileLines lines, read_key_file(what, path, &mode));
  if ((mode & 077) != 0) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
    return failed_precondition_error(what + " '" + path + "' is accessible by group or others (mode " + octal +
                                     "); run: chmod 600 " + path);
  }
  if (lines.secret_key.empty()) {
    return invalid_argument_error(what + " '" + path + "' has no secret-key line (is it a public key file?)");
  }
  if (lines.public_key.empty()) return invalid_argument_error(what + " '" + path + "' has no public-key line");
  CurveKeyPair keys{lines.public_key, lines.secret_key};
  RETURN_IF_ERROR(check_curve_key_pair(keys, what + " '" + path + "'"));
  return keys;
}

StatusOr<std::string> read_public_key(const std::string& path_or_z85) {
  const std::string what = "public key file";
  mode_t mode = 0;
  auto lines = read_key_file(what, path_or_z85, &mode);
  if (!lines.ok() && lines.status().code() == StatusCode::kNotFound) {
    // Not a file: a literal key, or a file name that does not exist.
    if (path_or_z85.size() == kZ85KeyLength && check_curve_key(path_or_z85, "public key").ok()) return path_or_z85;
    return not_found_error("'" + path_or_z85 + "' is neither a key file nor a " + std::to_string(kZ85KeyLength) +
                           "-character Z85 public key");
  }
  if (!lines.ok()) return lines.status();
  if (lines->public_key.empty()) return invalid_argument_error(what + " '" + path_or_z85 + "' has no public-key line");
  RETURN_IF_ERROR(check_curve_key(lines->public_key, what + " '" + path_or_z85 + "': public-key"));
  return lines->public_key;
}

}  // namespace flotilla
