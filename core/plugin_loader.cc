#include "core/plugin_loader.h"

#include <dlfcn.h>

namespace flotilla {

Status load_plugin(const std::string& path, PluginRegistrar& registrar) {
  // RTLD_LOCAL: two plugins may define the same helper names without clashing.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return not_found_error("cannot load plugin " + path + ": " + (why ? why : "unknown reason"));
  }
  auto version_fn = reinterpret_cast<flotilla_plugin_api_version_fn>(dlsym(handle, FLOTILLA_PLUGIN_VERSION_SYMBOL));
  auto register_fn = reinterpret_cast<flotilla_plugin_register_fn>(dlsym(handle, FLOTILLA_PLUGIN_REGISTER_SYMBOL));
  if (!version_fn || !register_fn) {
    dlclose(handle);  // nothing of it was used yet
    return failed_precondition_error(path + " is not a Flotilla plugin: it does not export " +
                                     FLOTILLA_PLUGIN_VERSION_SYMBOL + " and " + FLOTILLA_PLUGIN_REGISTER_SYMBOL +
                                     " (define them with FLOTILLA_PLUGIN from core/plugin_api.h)");
  }
  const uint32_t version = version_fn();
  if (version != kPluginApiVersion) {
    dlclose(handle);  // its vtables do not match ours: calling into it could crash
    std::string message = "plugin " + path + " was built against plugin API version " + std::to_string(version) +
                          ", but this Flotilla needs plugin API version " + std::to_string(kPluginApiVersion) + "; ";
    if (version < kPluginApiVersion) {
      message += "update it (" + plugin_api_changes_since(version) +
                 ") and rebuild it against this Flotilla's installed headers";
    } else {
      message += "it was built for a newer Flotilla: rebuild it against this one, or upgrade Flotilla";
    }
    return failed_precondition_error(message);
  }
  char error[1024] = {0};
  if (register_fn(&registrar, error, sizeof error) != 0)
    return failed_precondition_error("plugin " + path + " failed to register: " + error);
  return Status();
}

}  // namespace flotilla
