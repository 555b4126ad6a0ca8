#include "core/model_state.h"

#include <ATen/ops/isfinite.h>
#include <c10/core/ScalarType.h>

#include <algorithm>
#include <sstream>
#include <unordered_set>

namespace flotilla {
namespace {

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < sizes.size(); ++i) os << (i ? "," : "") << sizes[i];
  os << "]";
  return os.str();
}

}  // namespace

void ModelState::add(std::string name, at::Tensor tensor) {
  FLOTILLA_CHECK(find(name) == nullptr) << "duplicate tensor name " << name;
  entries_.push_back({std::move(name), std::move(tensor)});
}

const at::Tensor* ModelState::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e.tensor;
  return nullptr;
}

int64_t ModelState::byte_size() const {
  int64_t total = 0;
  for (const auto& e : entries_) total += e.tensor.numel() * static_cast<int64_t>(e.tensor.element_size());
  return total;
}

int64_t ModelState::numel() const {
  int64_t total = 0;
  for (const auto& e : entries_) total += e.tensor.numel();
  return total;
}

Status ModelState::check_same_layout(const ModelState& other) const {
  if (size() != other.size()) {
    return invalid_argument_error("model has " + std::to_string(other.size()) + " tensors, expected " +
                                  std::to_string(size()));
  }
  for (size_t i = 0; i < size(); ++i) {
    const auto& a = entries_[i];
    const auto& b = other.entries_[i];
    if (a.name != b.name)
      return invalid_argument_error("tensor " + std::to_string(i) + " is '" + b.name + "', expected '" + a.name + "'");
    if (a.tensor.scalar_type() != b.tensor.scalar_type())
      return invalid_argument_error("tensor '" + a.name + "' has dtype " + c10::toString(b.tensor.scalar_type()) +
                                    ", expected " + c10::toString(a.tensor.scalar_type()));
    if (a.tensor.sizes() != b.tensor.sizes())
      return invalid_argument_error("tensor '" + a.name + "' has shape " + shape_string(b.tensor.sizes()) +
                                    ", expected " + shape_string(a.tensor.sizes()));
  }
  return Status();
}

Status ModelState::check_finite() const {
  // In slices: at::isfinite(x) is (x == x) * (x.abs() != inf), which allocates a copy of x and
  // three masks, about 1.75 times the tensor at once (an update's worth for a large model).
  constexpr int64_t kSlice = int64_t{1} << 20;
  for (const auto& e : entries_) {
    if (!e.tensor.is_floating_point()) continue;
    const at::Tensor flat = e.tensor.reshape({-1});  // a view when contiguous
    for (int64_t at = 0; at < flat.numel(); at += kSlice) {
      if (!at::isfinite(flat.narrow(0, at, std::min(kSlice, flat.numel() - at))).all().item<bool>())
        return invalid_argument_error("tensor '" + e.name + "' contains NaN or Inf");
    }
  }
  return Status();
}

ModelState ModelState::clone() const {
  ModelState out;
  // One copy whatever the source: to(kCPU) then clone() copied a device tensor twice, and
  // clone() then contiguous() a strided one.
  const auto cpu = at::TensorOptions().device(at::kCPU);
  for (const auto& e : entries_)
    out.add(e.name, e.tensor.detach().to(cpu, /*non_blocking=*/false, /*copy=*/true, at::MemoryFormat::Contiguous));
  return out;
}

ModelState ModelState::to_cpu() const {
  ModelState out;
  for (const auto& e : entries_) out.add(e.name, e.tensor.detach().to(at::kCPU).contiguous());
  return out;
}

}  // namespace flotilla
