// A plugin built against plugin API version 2 (before client halves and Aggregator::prepare):
// the loader must refuse it before calling anything, since its vtables do not match.
#include <cstddef>
#include <cstdint>

#include "core/plugin_api.h"

extern "C" __attribute__((visibility("default"))) uint32_t flotilla_plugin_api_version() { return 2; }

extern "C" __attribute__((visibility("default"))) int flotilla_plugin_register(flotilla::PluginRegistrar*, char*,
                                                                               size_t) {
  __builtin_trap();  // must never be reached
}
