#include "datasets/file_bytes.h"

#include <zlib.h>

#include <fstream>
#include <sstream>

namespace flotilla {
namespace {

StatusOr<std::string> gunzip(const std::string& path, const std::string& compressed) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return internal_error("zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  char buffer[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return data_loss_error(path + ": gzip stream is " + (rc == Z_BUF_ERROR ? "truncated" : "corrupt") +
                           " (after " + std::to_string(out.size()) + " bytes)");
  }
  return out;
}

}  // namespace

StatusOr<std::string> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b)
    return gunzip(path, bytes);
  return bytes;
}

Status write_file_bytes(const std::string& path, const std::string& bytes, bool gzip) {
  if (!gzip) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    return out ? Status() : unavailable_error("cannot write " + path);
  }
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) return unavailable_error("cannot write " + path);
  const int written = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  if (gzclose(f) != Z_OK || written != static_cast<int>(bytes.size())) return unavailable_error("cannot write " + path);
  return Status();
}

}  // namespace flotilla
