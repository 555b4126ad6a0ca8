// Fuzzes the MNIST IDX reader on a file's bytes: the gzip layer (decompress_if_gzip, as
// read_file_bytes does by content) and then both the image (magic 0x803) and label (0x801)
// parsers, as read_idx_images and read_idx_labels do with a downloaded file.
//
// Properties: a malformed file is a Status naming the problem, never Internal (a library threw:
// the parser let something through that it should have refused); images are uint8 [N, rows, cols] holding exactly the
// bytes after the 16-byte header; labels are int64 [N], each in 0..9. A violation traps.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "datasets/file_bytes.h"
#include "datasets/mnist_idx.h"
#include "fuzz_checks.h"

namespace {

using flotilla::fuzz::check_not_internal;
using flotilla::fuzz::fail;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = flotilla::decompress_if_gzip(std::string(reinterpret_cast<const char*>(data), size), "input");
  if (!bytes.ok()) {
    check_not_internal(bytes.status());
    return 0;
  }

  const auto images = flotilla::parse_idx_images(*bytes, "input");
  check_not_internal(images.status());
  if (images.ok()) {
    const at::Tensor& t = *images;
    if (t.dim() != 3 || t.scalar_type() != at::kByte || !t.is_contiguous())
      fail("images are not uint8 [N, rows, cols]");
    if (static_cast<size_t>(t.numel()) + 16 != bytes->size()) fail("images do not cover the file after the header");
    if (t.numel() > 0 && std::memcmp(t.data_ptr(), bytes->data() + 16, t.numel()) != 0)
      fail("images differ from the file");
  }

  const auto labels = flotilla::parse_idx_labels(std::move(*bytes), "input");
  check_not_internal(labels.status());
  if (labels.ok()) {
    const at::Tensor& t = *labels;
    if (t.dim() != 1 || t.scalar_type() != at::kLong || !t.is_contiguous()) fail("labels are not int64 [N]");
    const auto* label = t.data_ptr<int64_t>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (label[i] < 0 || label[i] > 9) fail("a label is outside 0..9");
    }
  }
  return 0;
}
