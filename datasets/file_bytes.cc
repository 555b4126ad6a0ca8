#include "datasets/file_bytes.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace flotilla {
namespace {

namespace fs = std::filesystem;

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// The uncompressed size modulo 2^32 that gzip stores in its last four bytes; only a capacity hint.
size_t gzip_size_hint(const std::string& compressed) {
  if (compressed.size() < 18) return 0;  // smaller than an empty gzip member
  const auto* p = reinterpret_cast<const unsigned char*>(compressed.data()) + compressed.size() - 4;
  const size_t isize = size_t{p[0]} | (size_t{p[1]} << 8) | (size_t{p[2]} << 16) | (size_t{p[3]} << 24);
  // Deflate cannot expand more than ~1032x; a larger claim is a corrupt trailer, so do not trust it.
  return isize <= compressed.size() * 1032 ? isize : 0;
}

struct InflateEnd {
  void operator()(z_stream* zs) const {
    inflateEnd(zs);
    delete zs;
  }
};

StatusOr<std::string> gunzip(const std::string& path, const std::string& compressed) {
  std::unique_ptr<z_stream, InflateEnd> zs(new z_stream{});
  // 15 + 16: a window of 2^15 and a gzip (not zlib) header.
  if (inflateInit2(zs.get(), 15 + 16) != Z_OK) return internal_error(path + ": zlib inflateInit2 failed");
  std::string out;
  out.reserve(gzip_size_hint(compressed));
  const auto* in = reinterpret_cast<const Bytef*>(compressed.data());
  size_t consumed = 0;  // avail_in is 32-bit, so big inputs are fed in slices
  char buffer[1 << 16];
  for (;;) {
    if (zs->avail_in == 0 && consumed < compressed.size()) {
      const size_t slice = std::min<size_t>(compressed.size() - consumed, UINT_MAX);
      zs->next_in = const_cast<Bytef*>(in + consumed);
      zs->avail_in = static_cast<uInt>(slice);
      consumed += slice;
    }
    zs->next_out = reinterpret_cast<Bytef*>(buffer);
    zs->avail_out = sizeof buffer;
    const int rc = inflate(zs.get(), Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - zs->avail_out);
    if (rc == Z_STREAM_END) {
      const size_t left = zs->avail_in + (compressed.size() - consumed);
      if (left == 0) return out;
      // Another gzip member follows (what `cat a.gz b.gz` makes); anything else is corruption.
      const size_t at = compressed.size() - left;
      if (left < 2 || in[at] != 0x1f || in[at + 1] != 0x8b) {
        return data_loss_error(path + ": " + std::to_string(left) + " bytes of trailing data after the gzip stream");
      }
      if (inflateReset(zs.get()) != Z_OK) return internal_error(path + ": zlib inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs->avail_in == 0 && consumed == compressed.size()) {
      return data_loss_error(path + ": gzip stream is truncated (ended after " + std::to_string(out.size()) +
                             " decompressed bytes)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return data_loss_error(path + ": gzip stream is corrupt after " + std::to_string(out.size()) +
                             " decompressed bytes (" + (zs->msg ? zs->msg : "zlib error " + std::to_string(rc)) + ")");
    }
  }
}

}  // namespace

StatusOr<std::string> read_file_bytes(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) return not_found_error(path + ": no such file");
  if (fs::is_directory(st)) return failed_precondition_error(path + ": is a directory, expected a file");
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return failed_precondition_error(path + ": cannot open: " + std::strerror(errno));
  // One sized read: the files are tens to hundreds of MB and the readers want them whole.
  const uintmax_t size = fs::file_size(path, ec);
  std::string bytes(ec ? 0 : static_cast<size_t>(size), '\0');
  const size_t got = std::fread(bytes.data(), 1, bytes.size(), f.get());
  if (got != bytes.size()) {
    return data_loss_error(path + ": read " + std::to_string(got) + " of " + std::to_string(bytes.size()) + " bytes" +
                           (std::ferror(f.get()) ? std::string(": ") + std::strerror(errno) : ""));
  }
  if (ec) {  // no size (a pipe, say): read to the end instead
    char buffer[1 << 16];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0;) bytes.append(buffer, n);
    if (std::ferror(f.get())) return data_loss_error(path + ": read failed: " + std::strerror(errno));
  }
  return decompress_if_gzip(std::move(bytes), path);
}

StatusOr<std::string> decompress_if_gzip(std::string bytes, const std::string& name) {
  if (is_gzip(bytes)) return gunzip(name, bytes);
  return bytes;
}

Status write_file_bytes(const std::string& path, const std::string& bytes, bool gzip) {
  if (!gzip) {
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "wb"));
    if (!f) return unavailable_error("cannot write " + path + ": " + std::strerror(errno));
    const size_t put = std::fwrite(bytes.data(), 1, bytes.size(), f.get());
    if (put != bytes.size() || std::fclose(f.release()) != 0) {
      return unavailable_error("cannot write " + path + ": " + std::strerror(errno));
    }
    return Status();
  }
  gzFile gz = gzopen(path.c_str(), "wb");
  if (!gz) return unavailable_error("cannot write " + path + ": " + std::strerror(errno));
  // gzwrite takes an unsigned length, so write in slices.
  bool ok = true;
  for (size_t done = 0; ok && done < bytes.size();) {
    const unsigned slice = static_cast<unsigned>(std::min<size_t>(bytes.size() - done, 1u << 30));
    ok = gzwrite(gz, bytes.data() + done, slice) == static_cast<int>(slice);
    done += slice;
  }
  if (gzclose(gz) != Z_OK || !ok) return unavailable_error("cannot write " + path + " (gzip)");
  return Status();
}

}  // namespace flotilla
