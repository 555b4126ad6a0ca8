// Options: string key=value settings for a named component (an aggregator, a partitioner),
// as they arrive from flags or a config file, with typed accessors that report bad values by name.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

// One option a component accepts, with its documented default.
struct OptionSpec {
  std::string name;
  std::string default_value;
  std::string help;
};

class Options {
 public:
  Options() = default;
  explicit Options(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  Options(std::initializer_list<std::pair<const std::string, std::string>> values) : values_(values) {}

  // Parses "key=value" strings (as given to --aggregator-opt); a string without '=' is an error.
  static StatusOr<Options> parse(const std::vector<std::string>& assignments);

  void set(const std::string& key, std::string value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, std::string>& values() const { return values_; }

  // Fails with InvalidArgument naming `owner`, the unknown keys and the known ones; fills in
  // defaults for keys that are missing.
  Status apply_specs(const std::string& owner, const std::vector<OptionSpec>& specs);

  // Typed reads; a value that does not parse is InvalidArgument naming the key and the value.
  StatusOr<std::string> get_string(const std::string& key) const;
  StatusOr<double> get_double(const std::string& key) const;
  StatusOr<int64_t> get_int(const std::string& key) const;
  StatusOr<bool> get_bool(const std::string& key) const;

 private:
  std::map<std::string, std::string> values_;
};

// The shortest text that reads back as exactly `value` (std::to_chars), so that an option
// printed into config.json parses to the same bits.
std::string canonical_number(double value);

}  // namespace flotilla
