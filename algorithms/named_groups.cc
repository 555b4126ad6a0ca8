#include "algorithms/named_groups.h"

#include <ATen/ATen.h>

#include <sstream>

#include "aggregators/rule_state.h"

namespace flotilla {
namespace {

std::string describe(const at::Tensor& t) {
  std::ostringstream os;
  os << t.scalar_type() << " " << t.sizes();
  return os.str();
}

}  // namespace

Status check_layout(const std::string& who, const ModelState& state, std::span<const std::string> names,
                    std::span<const at::Tensor> like) {
  for (size_t k = 0; k < names.size(); ++k) {
    if (k >= state.size())
      return invalid_argument_error(who + ": tensor '" + names[k] + "' is missing (got " +
                                    std::to_string(state.size()) + " tensor(s), expected " +
                                    std::to_string(names.size()) + ")");
    const NamedTensor& e = state[k];
    if (e.name != names[k])
      return invalid_argument_error(who + ": tensor " + std::to_string(k) + " is '" + e.name + "', expected '" +
                                    names[k] + "'");
    if (!e.tensor.defined()) return invalid_argument_error(who + ": tensor '" + e.name + "' is undefined");
    if (e.tensor.scalar_type() != like[k].scalar_type() || !e.tensor.sizes().equals(like[k].sizes()))
      return invalid_argument_error(who + ": tensor '" + e.name + "' has " + describe(e.tensor) + ", expected " +
                                    describe(like[k]));
    if (e.tensor.is_floating_point() && !at::isfinite(e.tensor).all().item<bool>())
      return invalid_argument_error(who + ": tensor '" + e.name + "' holds non-finite values");
  }
  if (state.size() > names.size())
    return invalid_argument_error(who + ": unexpected tensor '" + state[names.size()].name + "' (expected " +
                                  std::to_string(names.size()) + " tensor(s))");
  return Status();
}

std::string group_name(const std::string& group, const std::string& name) { return group + "/" + name; }

Status check_group(const std::string& who, const ModelState& state, const std::string& group,
                   std::span<const std::string> names, std::span<const at::Tensor> like) {
  std::vector<std::string> full;
  full.reserve(names.size());
  for (const auto& name : names) full.push_back(group_name(group, name));
  return check_layout(who, state, full, like);
}

StatusOr<std::vector<at::Tensor>> read_group(const std::string& who, const ModelState& state, const std::string& group,
                                             std::span<const std::string> names, std::span<const at::Tensor> like) {
  std::vector<at::Tensor> out;
  out.reserve(names.size());
  if (state.empty()) {
    for (const auto& t : like) out.push_back(at::zeros_like(t.detach()));
    return out;
  }
  RETURN_IF_ERROR(check_group(who, state, group, names, like));
  for (size_t k = 0; k < names.size(); ++k) out.push_back(state[k].tensor.to(like[k].device()).clone());
  return out;
}

ModelState make_group(const std::string& group, std::span<const std::string> names,
                      std::span<const at::Tensor> tensors) {
  ModelState out;
  for (size_t k = 0; k < names.size(); ++k) out.add(group_name(group, names[k]), tensors[k].detach().to(at::kCPU));
  return out;
}

Status check_update_extras(const std::string& rule, const ClientUpdate& update, const ModelState& expected) {
  std::vector<std::string> names;
  std::vector<at::Tensor> like;
  for (const auto& e : expected.entries()) {
    names.push_back(e.name);
    like.push_back(e.tensor);
  }
  return check_layout(rule + ": extras of client " + std::to_string(update.client_id), update.extras, names, like);
}

Status check_no_extras(const std::string& who, const ModelState* extras) {
  if (extras == nullptr || extras->empty()) return Status();
  return invalid_argument_error(who + " takes no extras, but the task carries " + std::to_string(extras->size()) +
                                " (first: '" + (*extras)[0].name + "')");
}

Status read_trainable(const std::string& rule, const AlgorithmSetup& setup, std::vector<std::string>* names,
                      std::vector<at::Tensor>* like) {
  if (setup.initial == nullptr) return invalid_argument_error(rule + " needs the initial model to prepare");
  if (setup.num_clients < 1)
    return invalid_argument_error(rule + " needs the number of clients (>= 1), got " +
                                  std::to_string(setup.num_clients));
  names->clear();
  like->clear();
  for (const auto& name : setup.trainable) {
    const at::Tensor* t = setup.initial->find(name);
    if (t == nullptr) return invalid_argument_error(rule + ": trainable parameter '" + name + "' is not in the model");
    if (!t->is_floating_point())
      return invalid_argument_error(rule + ": trainable parameter '" + name + "' is not floating point");
    names->push_back(name);
    like->push_back(*t);
  }
  return Status();
}

Status restore_parameter_group(const std::string& rule, const std::string& group, const ModelState& state,
                               ModelState* tensors) {
  ASSIGN_OR_RETURN(std::vector<ModelState> parts, split_state_groups(rule, state, {group}));
  if (state.empty()) {
    for (auto& e : tensors->mutable_entries()) e.tensor = at::zeros_like(e.tensor);
    return Status();
  }
  if (!tensors->empty()) RETURN_IF_ERROR(check_state_fits_model(rule, group, *tensors, parts[0]));
  *tensors = std::move(parts[0]);
  return Status();
}

}  // namespace flotilla
