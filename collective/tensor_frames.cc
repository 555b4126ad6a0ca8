#include "collective/tensor_frames.h"

#include <ATen/ATen.h>

#include <cstring>
#include <memory>

#include "collective/little_endian.h"

namespace flotilla {
namespace {

constexpr size_t kTagBytes = 16;
constexpr uint32_t kAbortStep = 0xffffffff;

std::string describe(const ChunkTag& tag) {
  return "step " + std::to_string(tag.step) + " chunk " + std::to_string(tag.chunk) + " (" + std::to_string(tag.numel) +
         " elements)";
}

}  // namespace

Frames chunk_message(const ChunkTag& tag, const at::Tensor& values) {
  std::string header;
  header.reserve(kTagBytes);
  le::put(header, tag.step, 4);
  le::put(header, tag.chunk, 4);
  le::put(header, tag.numel, 8);
  auto copy = std::make_shared<at::Tensor>(values.clone());
  const void* data = copy->data_ptr();
  const size_t bytes = static_cast<size_t>(copy->numel()) * sizeof(float);
  return {Frame::from_string(std::move(header)), Frame::from_owner(std::move(copy), data, bytes)};
}

Frames abort_message(const std::string& reason) {
  std::string header;
  le::put(header, kAbortStep, 4);
  le::put(header, 0, 12);
  return {Frame::from_string(std::move(header)), Frame::from_string(reason)};
}

StatusOr<at::Tensor> read_chunk_message(const Frames& frames, const ChunkTag& expected, int sender) {
  const std::string from = "rank " + std::to_string(sender);
  if (frames.size() != 2 || frames[0].size() != kTagBytes) {
    return data_loss_error("a malformed collective message from " + from + " (" + std::to_string(frames.size()) +
                           " frames)");
  }
  const std::string_view header = frames[0].view();
  const ChunkTag got{static_cast<uint32_t>(le::get(header, 0, 4)), static_cast<uint32_t>(le::get(header, 4, 4)),
                     le::get(header, 8, 8)};
  if (got.step == kAbortStep) return aborted_error(kAbortedPrefix + std::string(frames[1].view()));
  if (got.step != expected.step || got.chunk != expected.chunk || got.numel != expected.numel) {
    return data_loss_error(from + " sent " + describe(got) + " where " + describe(expected) +
                           " was expected: the ranks do not run the same collective");
  }
  if (frames[1].size() != expected.numel * sizeof(float)) {
    return data_loss_error(from + " sent " + std::to_string(frames[1].size()) + " bytes for " + describe(expected));
  }
  // A copy: received frames need not be aligned for float.
  at::Tensor values = at::empty({static_cast<int64_t>(expected.numel)}, at::kFloat);
  if (expected.numel > 0) std::memcpy(values.data_ptr(), frames[1].data(), frames[1].size());
  return values;
}

StatusOr<at::Tensor> flatten_float32(std::span<const at::Tensor> tensors, std::span<const std::string> names) {
  std::vector<at::Tensor> flat;
  flat.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string what = i < names.size() ? "tensor " + names[i] : "tensor " + std::to_string(i);
    if (!tensors[i].defined()) return invalid_argument_error(what + " is undefined");
    if (tensors[i].scalar_type() != at::kFloat) {
      return invalid_argument_error(what + " is " + std::string(c10::toString(tensors[i].scalar_type())) +
                                    "; the collectives sum float32 only");
    }
    flat.push_back(tensors[i].detach().reshape({-1}).to(at::kCPU));
  }
  if (flat.empty()) return at::empty({0}, at::kFloat);
  return at::cat(flat).contiguous();
}

void unflatten_into(const at::Tensor& flat, std::span<at::Tensor> tensors) {
  int64_t offset = 0;
  at::NoGradGuard no_grad;
  for (at::Tensor& tensor : tensors) {
    const int64_t n = tensor.numel();
    tensor.copy_(flat.slice(0, offset, offset + n).view(tensor.sizes()));
    offset += n;
  }
}

}  // namespace flotilla
