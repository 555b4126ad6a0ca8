// Staleness weighting s(tau) from FedAsync (Xie, Koyejo, Gupta 2019, section 5.2): how much an
// update computed on a model tau versions old still counts. tau = 0 always weighs 1.
//
//   constant            s(tau) = 1
//   polynomial:a=A      s(tau) = (tau + 1)^-A                      A >= 0, default 0.5
//   hinge:a=A,b=B       s(tau) = 1 if tau <= B, else 1 / (A (tau - B) + 1)   A, B >= 0, defaults 10, 4
//
// Value type; thread-safe to share (immutable).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace flotilla {

class Staleness {
 public:
  enum class Kind { kConstant, kPolynomial, kHinge };

  // Constant weighting.
  Staleness() = default;

  // Parses a spec as above. InvalidArgument naming the option ("staleness"), the parameter and the
  // value for an unknown kind, an unknown parameter, a non-number, or a value out of range.
  static StatusOr<Staleness> parse(const std::string& spec);

  // s(tau); tau >= 0 (checked: staleness is computed by our own bookkeeping). In (0, 1].
  double weight(int64_t tau) const;

  // Canonical spec with every parameter spelled out ("hinge:a=10,b=4"); parse(to_string()) gives an
  // equal object, so it is what config.json records.
  std::string to_string() const;

  Kind kind() const { return kind_; }
  double a() const { return a_; }
  double b() const { return b_; }

 private:
  Kind kind_ = Kind::kConstant;
  double a_ = 0.0;
  double b_ = 0.0;
};

}  // namespace flotilla
