// ModelState helpers the tests share.
#pragma once

#include <ATen/ATen.h>

#include "core/model_state.h"

namespace flotilla::test_states {

// The same names in the same order, and bit for bit the same tensors.
inline bool same_state(const ModelState& a, const ModelState& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || !at::equal(a[i].tensor, b[i].tensor)) return false;
  return true;
}

}  // namespace flotilla::test_states
