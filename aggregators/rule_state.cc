#include "aggregators/rule_state.h"

#include <ATen/ATen.h>

namespace flotilla {

Status check_stateless(const std::string& rule, const ModelState& state) {
  if (state.empty()) return Status();
  return invalid_argument_error(rule + " keeps no state across rounds, but the state to restore has " +
                                std::to_string(state.size()) + " tensor(s), the first '" + state[0].name +
                                "': it was saved by another rule");
}

ModelState join_state_groups(const std::vector<std::pair<std::string, const ModelState*>>& groups) {
  ModelState out;
  for (const auto& [group, state] : groups)
    for (const auto& e : state->entries()) out.add(group + "/" + e.name, e.tensor.detach().clone());
  return out;
}

StatusOr<std::vector<ModelState>> split_state_groups(const std::string& rule, const ModelState& state,
                                                     const std::vector<std::string>& groups) {
  std::vector<ModelState> parts(groups.size());
  for (const auto& e : state.entries()) {
    const size_t slash = e.name.find('/');
    size_t g = 0;
    while (g < groups.size() && (slash == std::string::npos || e.name.compare(0, slash, groups[g]) != 0)) ++g;
    if (g == groups.size()) {
      std::string expected;
      for (const auto& name : groups) expected += (expected.empty() ? "" : ", ") + name + "/<tensor>";
      return invalid_argument_error(rule + " state: tensor '" + e.name + "' is not one of this rule's (expected " +
                                    expected + ")");
    }
    if (!e.tensor.defined()) return invalid_argument_error(rule + " state: tensor '" + e.name + "' is undefined");
    parts[g].add(e.name.substr(slash + 1), e.tensor.detach().clone());
  }
  for (size_t g = 1; g < parts.size(); ++g) {
    if (parts[g].size() != parts[0].size()) {
      return invalid_argument_error(rule + " state: group '" + groups[g] + "' has " + std::to_string(parts[g].size()) +
                                    " tensor(s), group '" + groups[0] + "' " + std::to_string(parts[0].size()));
    }
    Status same = parts[0].check_same_layout(parts[g]);
    if (!same.ok()) {
      return invalid_argument_error(rule + " state: group '" + groups[g] + "' does not match group '" + groups[0] +
                                    "': " + same.message());
    }
  }
  return parts;
}

Status check_state_fits_model(const std::string& rule, const std::string& group, const ModelState& global,
                              const ModelState& state) {
  const std::string what = rule + " state '" + group + "' does not fit the model";
  if (state.size() != global.size()) {
    return invalid_argument_error(what + ": it has " + std::to_string(state.size()) + " tensor(s), the model " +
                                  std::to_string(global.size()));
  }
  Status fits = global.check_same_layout(state);  // names "tensor 'x' has <state's>, expected <model's>"
  if (fits.ok()) return fits;
  return invalid_argument_error(what + ": " + fits.message());
}

}  // namespace flotilla
