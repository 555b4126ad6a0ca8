// Spec strings of the async options ("hinge:a=10,b=4", "gaussian:mean=1,std=0.2"): a kind, then
// optional key=value parameters. One reader for every spec so that each reports bad input the same
// way (naming the option, the key and the value) and prints the same canonical numbers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/options.h"  // canonical_number, which the specs print with
#include "core/status.h"

namespace flotilla {

class SpecReader {
 public:
  // Splits "kind[:k=v,k=v...]". `option` names the setting in every error ("staleness").
  // InvalidArgument for an empty kind, a parameter without '=', or a key given twice.
  static StatusOr<SpecReader> parse(const std::string& option, const std::string& text);

  const std::string& kind() const { return kind_; }

  // The value of `key` as a finite number, or `fallback` when the key is absent.
  StatusOr<double> number(const std::string& key, double fallback);
  // The value of `key` as text, or `fallback` when absent.
  std::string text(const std::string& key, const std::string& fallback);
  // InvalidArgument naming every key no read asked for (a typo must not be silently ignored).
  Status check_all_read() const;

  // An InvalidArgument "<option> '<text>': <message>".
  Status error(const std::string& message) const;

 private:
  std::string option_, text_, kind_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::vector<bool> read_;
};

}  // namespace flotilla
