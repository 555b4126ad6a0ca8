#include "async/staleness.h"

#include <cmath>

#include "async/spec.h"

namespace flotilla {

StatusOr<Staleness> Staleness::parse(const std::string& spec) {
  ASSIGN_OR_RETURN(SpecReader r, SpecReader::parse("staleness", spec));
  Staleness s;
  if (r.kind() == "constant") {
    s.kind_ = Kind::kConstant;
  } else if (r.kind() == "polynomial") {
    s.kind_ = Kind::kPolynomial;
    ASSIGN_OR_RETURN(s.a_, r.number("a", 0.5));
    if (s.a_ < 0) return r.error("a must be >= 0 (got " + canonical_number(s.a_) + ")");
  } else if (r.kind() == "hinge") {
    s.kind_ = Kind::kHinge;
    ASSIGN_OR_RETURN(s.a_, r.number("a", 10.0));
    ASSIGN_OR_RETURN(s.b_, r.number("b", 4.0));
    if (s.a_ < 0) return r.error("a must be >= 0 (got " + canonical_number(s.a_) + ")");
    if (s.b_ < 0) return r.error("b must be >= 0 (got " + canonical_number(s.b_) + ")");
  } else {
    return r.error("unknown kind '" + r.kind() + "' (expected constant, polynomial or hinge)");
  }
  RETURN_IF_ERROR(r.check_all_read());
  return s;
}

double Staleness::weight(int64_t tau) const {
  FLOTILLA_CHECK(tau >= 0) << "negative staleness " << tau;
  const double t = static_cast<double>(tau);
  switch (kind_) {
    case Kind::kConstant:
      return 1.0;
    case Kind::kPolynomial:
      return std::pow(t + 1.0, -a_);
    case Kind::kHinge:
      return t <= b_ ? 1.0 : 1.0 / (a_ * (t - b_) + 1.0);
  }
  return 1.0;
}

std::string Staleness::to_string() const {
  switch (kind_) {
    case Kind::kConstant:
      return "constant";
    case Kind::kPolynomial:
      return "polynomial:a=" + canonical_number(a_);
    case Kind::kHinge:
      return "hinge:a=" + canonical_number(a_) + ",b=" + canonical_number(b_);
  }
  return "constant";
}

}  // namespace flotilla
