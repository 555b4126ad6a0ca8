// A plugin built against plugin API version 4 (before Model::provides_features):
// the loader must refuse it before calling anything, since its vtables do not match.
#include <cstddef>
#include <cstdint>

#include "core/plugin_api.h"

extern "C" __attribute__((visibility("default"))) uint32_t flotilla_plugin_api_version() { return 4; }

extern "C" __attribute__((visibility("default"))) int flotilla_plugin_register(flotilla::PluginRegistrar*, char*,
                                                                               size_t) {
  __builtin_trap();  // must never be reached
}
