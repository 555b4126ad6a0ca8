// A plugin that claims another API version: the loader must refuse it before calling anything.
#include <cstddef>
#include <cstdint>

#include "core/plugin_api.h"

extern "C" __attribute__((visibility("default"))) uint32_t flotilla_plugin_api_version() {
  return flotilla::kPluginApiVersion + 998;
}

extern "C" __attribute__((visibility("default"))) int flotilla_plugin_register(flotilla::PluginRegistrar*, char*,
                                                                               size_t) {
  __builtin_trap();  // must never be reached
}
