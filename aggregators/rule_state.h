// Helpers for Aggregator::save_state / restore_state. A rule's state is one or more groups of
// tensors with one tensor per model entry (FedAvgM's velocity; FedAdam's m and v), saved as one
// ModelState whose names are "<group>/<model tensor name>", so a checkpoint shows what each is.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// For stateless rules: OK for an empty state; otherwise InvalidArgument naming `rule` and the
// first tensor, since accepting it would silently drop state some other rule saved.
Status check_stateless(const std::string& rule, const ModelState& state);

// The groups as one state named "<group>/<name>", in group order, deep-copied (a snapshot: the
// rule keeps updating its own tensors in place).
ModelState join_state_groups(const std::vector<std::pair<std::string, const ModelState*>>& groups);

// The inverse: one ModelState per name in `groups` (prefix stripped, deep-copied, order kept).
// InvalidArgument naming `rule` for a tensor of no such group, or groups that differ in names,
// dtypes or shapes. An empty state gives empty groups.
StatusOr<std::vector<ModelState>> split_state_groups(const std::string& rule, const ModelState& state,
                                                     const std::vector<std::string>& groups);

// Before using restored tensors: they must match the model's layout (names, dtypes, shapes).
// InvalidArgument naming `rule` and `group` otherwise.
Status check_state_fits_model(const std::string& rule, const std::string& group, const ModelState& global,
                              const ModelState& state);

}  // namespace flotilla
