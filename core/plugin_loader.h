// Loads plugins (shared libraries with FLOTILLA_PLUGIN entry points) into registries.
// Libraries stay loaded for the life of the process: objects their factories made may live
// until exit, so they are never dlclose()d.
#pragma once

#include <string>

#include "core/plugin_api.h"
#include "core/status.h"

namespace flotilla {

// dlopen()s `path`, checks the plugin's API version against kPluginApiVersion, then lets it
// register. NotFound when the file cannot be loaded (with dlerror's reason); FailedPrecondition
// for a missing entry point or another API version (saying both versions and what to do); the
// plugin's own error otherwise.
Status load_plugin(const std::string& path, PluginRegistrar& registrar);

}  // namespace flotilla
