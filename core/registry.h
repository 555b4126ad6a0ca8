// Registry<T>: named factories for one kind of component (aggregators, partitioners, models).
// Registration is explicit (each module has a RegisterBuiltin...() that main calls) because
// static self-registering objects in static libraries get dropped by the linker.
// Not thread-safe: fill it at start-up, then only read.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/status.h"

namespace flotilla {

template <typename T>
class Registry {
 public:
  // Builds a component from options that were already checked against the entry's specs and
  // completed with defaults. Returns InvalidArgument for values out of range.
  using Factory = std::function<StatusOr<std::unique_ptr<T>>(const Options&)>;

  struct Entry {
    std::string name;
    std::string description;
    std::vector<OptionSpec> options;
    Factory factory;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  Status add(Entry entry) {
    if (entry.name.empty() || !entry.factory)
      return invalid_argument_error(kind_ + " registration needs a name and a factory");
    if (entries_.count(entry.name)) return already_exists_error(kind_ + " '" + entry.name + "' is already registered");
    std::string name = entry.name;
    entries_.emplace(std::move(name), std::move(entry));
    return Status();
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  const Entry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  // Entries sorted by name.
  std::vector<const Entry*> entries() const {
    std::vector<const Entry*> out;
    for (const auto& [name, e] : entries_) out.push_back(&e);
    return out;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

  // The names, sorted, as "a, b, c": for messages that list what exists.
  std::string joined_names() const {
    std::string out;
    for (const auto& [name, e] : entries_) out += (out.empty() ? "" : ", ") + name;
    return out;
  }

  // Unknown name or option: InvalidArgument that lists what exists.
  StatusOr<std::unique_ptr<T>> create(const std::string& name, Options options = Options()) const {
    const Entry* entry = find(name);
    if (!entry) return invalid_argument_error("unknown " + kind_ + " '" + name + "'; known: " + joined_names());
    RETURN_IF_ERROR(options.apply_specs(name, entry->options));
    auto made = entry->factory(options);
    if (!made.ok()) return made.status().with_context(kind_ + " '" + name + "'");
    return made;
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace flotilla
