#include "async/delay_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "async/spec.h"
#include "core/id_ranges.h"

namespace flotilla {
namespace {

// splitmix64's finaliser: a bijection that spreads every input bit over the output.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A 64-bit word that depends on every key; chaining mix() keeps (1, 2) and (2, 1) apart.
uint64_t hash_keys(std::initializer_list<uint64_t> keys) {
  uint64_t h = 0x6a09e667f3bcc909ULL;
  for (uint64_t k : keys) h = mix(h + 0x9e3779b97f4a7c15ULL + k);
  return h;
}

// Uniform in (0, 1]: never 0, so that log() in Box-Muller stays finite.
double unit_uniform(uint64_t word) { return static_cast<double>((word >> 11) + 1) * 0x1.0p-53; }

}  // namespace

StatusOr<DelayModel> DelayModel::parse(const std::string& spec) {
  DelayModel m;
  const auto semicolon = spec.find(';');
  ASSIGN_OR_RETURN(SpecReader r, SpecReader::parse("delay", spec.substr(0, semicolon)));
  if (r.kind() == "constant") {
    m.distribution_ = Distribution::kConstant;
    ASSIGN_OR_RETURN(m.mean_, r.number("value", 0.0));
    if (m.mean_ < 0) return r.error("value must be >= 0 (got " + canonical_number(m.mean_) + ")");
  } else if (r.kind() == "gaussian") {
    m.distribution_ = Distribution::kGaussian;
    ASSIGN_OR_RETURN(m.mean_, r.number("mean", 0.0));
    ASSIGN_OR_RETURN(m.std_, r.number("std", 0.0));
    if (m.mean_ < 0) return r.error("mean must be >= 0 (got " + canonical_number(m.mean_) + ")");
    if (m.std_ < 0) return r.error("std must be >= 0 (got " + canonical_number(m.std_) + ")");
  } else {
    return r.error("unknown distribution '" + r.kind() + "' (expected constant or gaussian)");
  }
  const std::string per = r.text("per", "update");
  if (per == "update") {
    m.unit_ = Unit::kPerUpdate;
  } else if (per == "batch") {
    m.unit_ = Unit::kPerBatch;
  } else {
    return r.error("per='" + per + "' must be update or batch");
  }
  RETURN_IF_ERROR(r.check_all_read());
  if (semicolon == std::string::npos) return m;

  // "slow=<ids>:factor=<f>"; the ids have commas of their own, so this part is split by hand.
  const std::string slow = spec.substr(semicolon + 1);
  const Status bad = invalid_argument_error("delay '" + spec + "': '" + slow +
                                            "' is not slow=<client ids>:factor=<f> (e.g. slow=3,7:factor=5)");
  const auto colon = slow.find(':');
  if (slow.rfind("slow=", 0) != 0 || colon == std::string::npos) return bad;
  auto ids = parse_client_ids(slow.substr(5, colon - 5));
  if (!ids.ok()) return ids.status().with_context("delay '" + spec + "'");
  m.slow_ = std::move(ids).value();
  ASSIGN_OR_RETURN(SpecReader f, SpecReader::parse("delay", "slow:" + slow.substr(colon + 1)));
  ASSIGN_OR_RETURN(m.factor_, f.number("factor", 1.0));
  if (!(m.factor_ >= 1.0)) return f.error("factor must be >= 1 (got " + canonical_number(m.factor_) + ")");
  RETURN_IF_ERROR(f.check_all_read());
  return m;
}

std::string DelayModel::to_string() const {
  std::string out = distribution_ == Distribution::kConstant
                        ? "constant:value=" + canonical_number(mean_)
                        : "gaussian:mean=" + canonical_number(mean_) + ",std=" + canonical_number(std_);
  out += unit_ == Unit::kPerUpdate ? ",per=update" : ",per=batch";
  if (!slow_.empty()) out += ";slow=" + format_client_ids(slow_) + ":factor=" + canonical_number(factor_);
  return out;
}

double DelayModel::slowdown(int client_id) const {
  return std::binary_search(slow_.begin(), slow_.end(), client_id) ? factor_ : 1.0;
}

double DelayModel::sample(uint64_t seed, int client_id, int64_t update_index, int64_t batch_index) const {
  if (unit_ == Unit::kPerUpdate) batch_index = 0;
  double value = mean_;
  if (distribution_ == Distribution::kGaussian && std_ > 0) {
    // Truncation by redrawing: with mean >= 0 each draw is accepted with probability >= 1/2, so
    // 64 tries fail with probability <= 2^-64; then 0, the truncation point.
    value = 0.0;
    for (uint64_t attempt = 0; attempt < 64; ++attempt) {
      const uint64_t h = hash_keys({seed, static_cast<uint64_t>(client_id), static_cast<uint64_t>(update_index),
                                    static_cast<uint64_t>(batch_index), attempt});
      const double u1 = unit_uniform(h), u2 = unit_uniform(mix(h));
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      const double x = mean_ + std_ * z;
      if (x >= 0) {
        value = x;
        break;
      }
    }
  }
  return value * slowdown(client_id);
}

double DelayModel::task_delay(uint64_t seed, int client_id, int64_t update_index, int64_t num_batches) const {
  if (unit_ == Unit::kPerUpdate) return sample(seed, client_id, update_index, 0);
  double total = 0.0;
  for (int64_t b = 0; b < num_batches; ++b) total += sample(seed, client_id, update_index, b);
  return total;
}

}  // namespace flotilla
