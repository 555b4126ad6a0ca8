// ModelState: a model's named tensors (parameters and buffers) in a fixed order; the unit that
// travels between coordinator and clients and that aggregators combine. Names follow PyTorch's
// state_dict ("conv1.weight"), so a saved state loads in Python.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

struct NamedTensor {
  std::string name;
  at::Tensor tensor;
};

// Value-semantics container; tensors are shared, not copied, on copy (use clone() for a deep copy).
// Not thread-safe for concurrent mutation.
class ModelState {
 public:
  ModelState() = default;

  // Appends a tensor. Names must be unique (checked: this is our own code's invariant).
  void add(std::string name, at::Tensor tensor);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<NamedTensor>& entries() const { return entries_; }
  std::vector<NamedTensor>& mutable_entries() { return entries_; }
  const NamedTensor& operator[](size_t i) const { return entries_[i]; }

  // The tensor of that name, or nullptr.
  const at::Tensor* find(const std::string& name) const;

  // Sum of every tensor's data size in bytes.
  int64_t byte_size() const;
  int64_t numel() const;

  // OK when `other` has the same names, dtypes and shapes in the same order; otherwise a named
  // InvalidArgument saying what differs first.
  Status check_same_layout(const ModelState& other) const;

  // OK when every floating-point tensor is finite; otherwise names the first bad tensor.
  Status check_finite() const;

  // Deep copy, contiguous, on `device` (CPU by default).
  ModelState clone() const;
  ModelState to_cpu() const;

 private:
  std::vector<NamedTensor> entries_;
};

}  // namespace flotilla
