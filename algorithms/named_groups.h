// Helpers shared by the algorithms' halves for tensors kept one per trainable parameter under a
// group prefix ("c/<param>", "delta_c/<param>", "grad/<param>"): checking what a peer sent, reading
// a client's stored group (zeros before its first task), and building a group. Every check names
// the first wrong tensor, since extras and states come from another process or a file.
#pragma once

#include <ATen/core/Tensor.h>

#include <span>
#include <string>
#include <vector>

#include "aggregators/aggregator.h"
#include "core/model_state.h"
#include "core/status.h"

namespace flotilla {

// "<group>/<name>".
std::string group_name(const std::string& group, const std::string& name);

// OK when `state` holds exactly the tensors `names`, in that order, each with the dtype and shape
// of like[k], defined and finite. Otherwise InvalidArgument starting with `who` and naming the
// first wrong tensor.
Status check_layout(const std::string& who, const ModelState& state, std::span<const std::string> names,
                    std::span<const at::Tensor> like);

// OK when `state` holds exactly the tensors "<group>/<names[k]>", in that order, each with the
// dtype and shape of like[k], defined and finite. Otherwise InvalidArgument starting with `who`
// and naming the first wrong tensor.
Status check_group(const std::string& who, const ModelState& state, const std::string& group,
                   std::span<const std::string> names, std::span<const at::Tensor> like);

// The group's tensors from `state`, on like[k]'s device, in names' order; zeros like like[k] when
// `state` is empty (a client's first task). Checked as check_group does.
StatusOr<std::vector<at::Tensor>> read_group(const std::string& who, const ModelState& state, const std::string& group,
                                             std::span<const std::string> names, std::span<const at::Tensor> like);

// The tensors as "<group>/<names[k]>", detached, on the CPU.
ModelState make_group(const std::string& group, std::span<const std::string> names,
                      std::span<const at::Tensor> tensors);

// An update's extras against the server half's expected layout (names, dtypes, shapes, finite):
// InvalidArgument naming `rule`, the client and the first wrong tensor.
Status check_update_extras(const std::string& rule, const ClientUpdate& update, const ModelState& expected);

// For client halves that take no extras: OK when `extras` is null or empty, else InvalidArgument
// naming `who` and the first tensor.
Status check_no_extras(const std::string& who, const ModelState* extras);

// The trainable entries of `setup` (names and, from setup.initial, the tensors as layout), checked:
// every name is in the initial state and floating point. InvalidArgument naming `rule` otherwise.
Status read_trainable(const std::string& rule, const AlgorithmSetup& setup, std::vector<std::string>* names,
                      std::vector<at::Tensor>* like);

// Aggregator::restore_state for a rule whose state is one group of per-parameter tensors,
// `*tensors`, which holds the trainable layout once the rule is prepared. An empty state means
// "before round 1": every tensor becomes zeros. Otherwise the group is split out of `state`
// (split_state_groups), checked against *tensors' layout when prepared (check_state_fits_model;
// an unprepared rule leaves that to its next aggregate()), and taken. On error *tensors is
// unchanged.
Status restore_parameter_group(const std::string& rule, const std::string& group, const ModelState& state,
                               ModelState* tensors);

}  // namespace flotilla
