#include "datasets/byte_tensor.h"

#include <ATen/ops/from_blob.h>

#include <memory>

#include "core/check.h"

namespace flotilla {

at::Tensor byte_tensor(std::string bytes, int64_t offset, at::IntArrayRef sizes) {
  int64_t count = 1;
  for (int64_t d : sizes) count *= d;
  FLOTILLA_CHECK(offset >= 0 && count >= 0 && static_cast<uint64_t>(offset + count) <= bytes.size())
      << "byte range [" << offset << ", " << offset + count << ") outside " << bytes.size() << " bytes";
  // The deleter's captured shared_ptr keeps the whole buffer alive as long as the storage lives,
  // whatever offset the tensor starts at; if from_blob throws, the buffer is freed exactly once.
  auto owned = std::make_shared<std::string>(std::move(bytes));
  return at::from_blob(
      owned->data() + offset, sizes, [owned](void*) {}, at::TensorOptions().dtype(at::kByte));
}

}  // namespace flotilla
