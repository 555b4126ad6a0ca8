// Fuzzes the CIFAR-10 binary batch reader on a file's bytes: the gzip layer (decompress_if_gzip,
// as read_file_bytes does by content) and then parse_cifar10_bin, as read_cifar10_bin does.
//
// Properties: a malformed file is a Status naming the problem, never Internal (a library threw:
// the parser let something through that it should have refused); N = size / 3073 records; labels are int64 [N] in 0..9
// equal to each record's first byte; images are uint8 [N, 3, 32, 32] equal to the record's other 3072 bytes. A
// violation traps.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "datasets/cifar10_bin.h"
#include "datasets/file_bytes.h"
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
  const std::string file = *bytes;  // the parser takes ownership of *bytes; keep a copy to compare
  const auto records = flotilla::parse_cifar10_bin(std::move(*bytes), "input");
  if (!records.ok()) {
    check_not_internal(records.status());
    return 0;
  }

  const at::Tensor& labels = records->labels;
  const at::Tensor& images = records->images;
  const int64_t n = static_cast<int64_t>(file.size()) / flotilla::kCifarRecordBytes;
  if (labels.dim() != 1 || labels.scalar_type() != at::kLong || labels.size(0) != n || !labels.is_contiguous())
    fail("labels are not int64 [N]");
  if (images.dim() != 4 || images.scalar_type() != at::kByte || images.size(0) != n || images.size(1) != 3 ||
      images.size(2) != 32 || images.size(3) != 32)
    fail("images are not uint8 [N, 3, 32, 32]");
  const at::Tensor packed = images.contiguous();  // the parser returns a strided view of the records
  const auto* pixel = static_cast<const char*>(packed.data_ptr());
  for (int64_t i = 0; i < n; ++i) {
    const char* record = file.data() + i * flotilla::kCifarRecordBytes;
    const int64_t label = labels.data_ptr<int64_t>()[i];
    if (label < 0 || label > 9 || label != static_cast<unsigned char>(record[0])) fail("a label is wrong");
    if (std::memcmp(pixel + i * flotilla::kCifarImageBytes, record + 1, flotilla::kCifarImageBytes) != 0)
      fail("an image is wrong");
  }
  return 0;
}
