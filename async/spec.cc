#include "async/spec.h"

#include <charconv>
#include <cmath>

namespace flotilla {

StatusOr<SpecReader> SpecReader::parse(const std::string& option, const std::string& text) {
  SpecReader r;
  r.option_ = option;
  r.text_ = text;
  const auto colon = text.find(':');
  r.kind_ = text.substr(0, colon);
  if (r.kind_.empty()) return r.error("no kind before ':'");
  if (colon == std::string::npos) return r;
  const std::string rest = text.substr(colon + 1);
  size_t begin = 0;
  while (begin <= rest.size()) {
    const size_t end = std::min(rest.find(',', begin), rest.size());
    const std::string piece = rest.substr(begin, end - begin);
    const auto eq = piece.find('=');
    if (eq == std::string::npos || eq == 0) return r.error("parameter '" + piece + "' is not key=value");
    std::string key = piece.substr(0, eq);
    for (const auto& [k, v] : r.params_)
      if (k == key) return r.error("parameter '" + key + "' given twice");
    r.params_.emplace_back(std::move(key), piece.substr(eq + 1));
    r.read_.push_back(false);
    begin = end + 1;
  }
  return r;
}

StatusOr<double> SpecReader::number(const std::string& key, double fallback) {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].first != key) continue;
    read_[i] = true;
    const std::string& v = params_[i].second;
    double value = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(value))
      return error(key + "='" + v + "' is not a finite number");
    return value;
  }
  return fallback;
}

std::string SpecReader::text(const std::string& key, const std::string& fallback) {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].first != key) continue;
    read_[i] = true;
    return params_[i].second;
  }
  return fallback;
}

Status SpecReader::check_all_read() const {
  std::string unknown;
  for (size_t i = 0; i < params_.size(); ++i)
    if (!read_[i]) unknown += (unknown.empty() ? "" : ", ") + params_[i].first;
  if (unknown.empty()) return Status();
  return error("unknown parameter(s) for '" + kind_ + "': " + unknown);
}

Status SpecReader::error(const std::string& message) const {
  return invalid_argument_error(option_ + " '" + text_ + "': " + message);
}

}  // namespace flotilla
