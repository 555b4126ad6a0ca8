#include "aggregators/option_checks.h"

namespace flotilla {

StatusOr<double> read_positive(const Options& options, const std::string& key) {
  ASSIGN_OR_RETURN(double v, options.get_double(key));
  if (!(v > 0)) return invalid_argument_error(key + " must be > 0, got " + std::to_string(v));
  return v;
}

StatusOr<double> read_unit_interval(const Options& options, const std::string& key) {
  ASSIGN_OR_RETURN(double v, options.get_double(key));
  if (!(v >= 0 && v < 1)) return invalid_argument_error(key + " must be in [0, 1), got " + std::to_string(v));
  return v;
}

StatusOr<int64_t> read_int_at_least(const Options& options, const std::string& key, int64_t minimum) {
  ASSIGN_OR_RETURN(int64_t v, options.get_int(key));
  if (v < minimum)
    return invalid_argument_error(key + " must be >= " + std::to_string(minimum) + ", got " + std::to_string(v));
  return v;
}

}  // namespace flotilla
