#include "core/options.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace flotilla {

StatusOr<Options> Options::parse(const std::vector<std::string>& assignments) {
  Options out;
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid_argument_error("option '" + a + "' is not of the form key=value");
    out.set(a.substr(0, eq), a.substr(eq + 1));
  }
  return out;
}

Status Options::apply_specs(const std::string& owner, const std::vector<OptionSpec>& specs) {
  for (const auto& [key, value] : values_) {
    bool known = false;
    for (const auto& s : specs) known = known || s.name == key;
    if (!known) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      return invalid_argument_error("'" + owner + "' has no option '" + key +
                                    "'; its options are: " + (names.empty() ? "(none)" : names));
    }
  }
  for (const auto& s : specs)
    if (!has(s.name)) set(s.name, s.default_value);
  return Status();
}

StatusOr<std::string> Options::get_string(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return not_found_error("option '" + key + "' is not set");
  return it->second;
}

StatusOr<double> Options::get_double(const std::string& key) const {
  ASSIGN_OR_RETURN(std::string text, get_string(key));
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    return invalid_argument_error("option '" + key + "' = '" + text + "' is not a finite number");
  return v;
}

StatusOr<int64_t> Options::get_int(const std::string& key) const {
  ASSIGN_OR_RETURN(std::string text, get_string(key));
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    return invalid_argument_error("option '" + key + "' = '" + text + "' is not an integer");
  return static_cast<int64_t>(v);
}

StatusOr<bool> Options::get_bool(const std::string& key) const {
  auto found = values_.find(key);
  if (found == values_.end()) return not_found_error("option '" + key + "' is not set");
  const std::string& text = found->second;
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return invalid_argument_error("option '" + key + "' = '" + text + "' is not a boolean");
}

std::string canonical_number(double value) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, ptr);
}

}  // namespace flotilla
