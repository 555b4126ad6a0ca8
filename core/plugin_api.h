// The plugin API: how a shared library adds aggregators and algorithms' client halves to Flotilla
// without touching or rebuilding it.
//
// A plugin is a shared library that defines its registration function with
// FLOTILLA_PLUGIN(registrar) { ... }. The macro exports two C entry points: one that reports the
// API version the plugin was built against (checked before anything else is called), and one that
// receives a PluginRegistrar and adds factories to its registries. See
// examples/custom_aggregator/, examples/custom_algorithm/, docs/aggregators.md and
// docs/algorithms.md.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "core/registry.h"
#include "core/status.h"

namespace flotilla {

// Bumped whenever a type a plugin sees (Aggregator, ClientUpdate, ModelState, Registry, Options,
// Status) changes incompatibly. History (the loader quotes it to the owner of an older plugin):
//   1  the first API
//   2  Aggregator gained save_state() and restore_state() (checkpoints, resume)
//   3  algorithms with a client half: Aggregator gained prepare(), client_half(), task_extras(),
//      expected_update_extras() and check_update(); ClientUpdate gained steps and extras; plugins may register
//      ClientAlgorithm client halves; Model gained features() and classify()
//   4  streaming aggregation: Aggregator gained begin_fold() (aggregators/update_fold.h); the
//      vtable changed, so a version-3 plugin would call the wrong methods
//   5  Model gained provides_features() (TorchScript models): Model's vtable changed
inline constexpr uint32_t kPluginApiVersion = 5;

// What a plugin built against `version` must change to build against kPluginApiVersion: every
// change since, one sentence each; empty when there is nothing to say (same or newer version).
inline std::string plugin_api_changes_since(uint32_t version) {
  std::string out;
  auto add = [&out](const char* change) { out += (out.empty() ? "" : "; ") + std::string(change); };
  if (version < 2) add("version 2 added Aggregator::save_state() and restore_state(), see docs/aggregators.md");
  if (version < 3)
    add("version 3 added client halves (ClientAlgorithm) and Aggregator::prepare(), client_half(), task_extras(), "
        "expected_update_extras() and check_update(), all with defaults, see docs/algorithms.md");
  if (version < 4)
    add("version 4 added Aggregator::begin_fold() for streaming aggregation (with a default: rebuild the plugin; "
        "a rule that is a sum may return a WeightedMeanFold, see docs/aggregators.md)");
  if (version < 5) add("version 5: Model gained provides_features() (TorchScript models); rebuild the plugin");
  return out;
}

class Aggregator;
class ClientAlgorithm;
class Partitioner;

// What a plugin may register into. Pointers are owned by the host, outlive the plugin's use and
// are never null: the coordinator and the client load the same plugin, and each passes every
// registry (the client's aggregator registry, for one, is filled and left unused).
struct PluginRegistrar {
  Registry<Aggregator>* aggregators = nullptr;
  Registry<Partitioner>* partitioners = nullptr;
  Registry<ClientAlgorithm>* client_algorithms = nullptr;
};

}  // namespace flotilla

extern "C" {
using flotilla_plugin_api_version_fn = uint32_t (*)();
// Returns 0 on success; otherwise writes a message (NUL-terminated, at most `error_size` bytes).
using flotilla_plugin_register_fn = int (*)(flotilla::PluginRegistrar* registrar, char* error, size_t error_size);
}

#define FLOTILLA_PLUGIN_VERSION_SYMBOL "flotilla_plugin_api_version"
#define FLOTILLA_PLUGIN_REGISTER_SYMBOL "flotilla_plugin_register"

// Defines the plugin's entry points around a body that returns a flotilla::Status:
//   FLOTILLA_PLUGIN(registrar) { return registrar.aggregators->add({...}); }
#define FLOTILLA_PLUGIN(registrar_name)                                                        \
  static ::flotilla::Status flotilla_plugin_body(::flotilla::PluginRegistrar& registrar_name); \
  extern "C" __attribute__((visibility("default"))) uint32_t flotilla_plugin_api_version() {   \
    return ::flotilla::kPluginApiVersion;                                                      \
  }                                                                                            \
  extern "C" __attribute__((visibility("default"))) int flotilla_plugin_register(              \
      ::flotilla::PluginRegistrar* registrar, char* error, size_t error_size) {                \
    ::flotilla::Status status;                                                                 \
    try {                                                                                      \
      status = flotilla_plugin_body(*registrar);                                               \
    } catch (const std::exception& e) {                                                        \
      status = ::flotilla::internal_error(e.what());                                           \
    }                                                                                          \
    if (status.ok()) return 0;                                                                 \
    std::snprintf(error, error_size, "%s", status.to_string().c_str());                        \
    return 1;                                                                                  \
  }                                                                                            \
  static ::flotilla::Status flotilla_plugin_body(::flotilla::PluginRegistrar& registrar_name)
