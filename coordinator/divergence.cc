#include "coordinator/divergence.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace flotilla {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

Divergence client_divergence(const ModelState& client, const ModelState& previous, const ModelState& next) {
  double d_prev = 0, n_prev = 0, d_new = 0, n_new = 0, dot = 0, n_update = 0;
  for (size_t i = 0; i < client.size(); ++i) {
    if (!client[i].tensor.is_floating_point()) continue;
    const at::Tensor wk = client[i].tensor.to(at::kDouble);
    const at::Tensor wp = previous[i].tensor.to(at::kDouble);
    const at::Tensor wn = next[i].tensor.to(at::kDouble);
    const at::Tensor uk = wk - wp;
    const at::Tensor u = wn - wp;
    d_prev += uk.square().sum().item<double>();
    n_prev += wp.square().sum().item<double>();
    d_new += (wk - wn).square().sum().item<double>();
    n_new += wn.square().sum().item<double>();
    dot += (uk * u).sum().item<double>();
    n_update += u.square().sum().item<double>();
  }
  Divergence d;
  d.to_previous = n_prev > 0 ? std::sqrt(d_prev / n_prev) : kNaN;
  d.to_new = n_new > 0 ? std::sqrt(d_new / n_new) : kNaN;
  d.cosine = (d_prev > 0 && n_update > 0) ? dot / std::sqrt(d_prev * n_update) : kNaN;
  return d;
}

namespace {

// splitmix64: a fixed hash of the element's index, so every sketch uses the same buckets and signs.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// sum of x^2 over the floating tensors of `state`, in float64, element by element: no float64
// copy of a tensor (to(kDouble).square() would allocate four times the largest one, which counts
// against the coordinator's memory for a model of gigabytes).
double squared_norm(const ModelState& state) {
  double sum = 0;
  for (const auto& e : state.entries()) {
    if (!e.tensor.is_floating_point()) continue;
    const at::Tensor x = e.tensor.cpu().contiguous();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "squared_norm", [&] {
      const scalar_t* xs = x.data_ptr<scalar_t>();
      for (int64_t j = 0; j < x.numel(); ++j) {
        const double v = static_cast<double>(xs[j]);
        sum += v * v;
      }
    });
  }
  return sum;
}

int64_t floating_numel(const ModelState& state) {
  int64_t n = 0;
  for (const auto& e : state.entries())
    if (e.tensor.is_floating_point()) n += e.tensor.numel();
  return n;
}

}  // namespace

DivergenceTracker::DivergenceTracker(const ModelState& previous) : previous_(previous) {
  previous_squared_norm_ = squared_norm(previous);
  exact_ = floating_numel(previous) <= kSketchSize;
}

DivergenceTracker::Observed DivergenceTracker::measure(const ModelState& state) const {
  Observed out;
  out.sketch.assign(static_cast<size_t>(kSketchSize), 0.0);
  uint64_t index = 0;  // over the floating elements of the whole model
  for (size_t i = 0; i < state.size(); ++i) {
    const at::Tensor& x = state[i].tensor;
    if (!x.is_floating_point()) continue;
    const at::Tensor xc = x.cpu().contiguous();
    const at::Tensor pc = previous_[i].tensor.cpu().contiguous();
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, xc.scalar_type(), "divergence_sketch", [&] {
      const scalar_t* xs = xc.data_ptr<scalar_t>();
      const scalar_t* ps = pc.data_ptr<scalar_t>();
      for (int64_t j = 0; j < xc.numel(); ++j, ++index) {
        const double d = static_cast<double>(xs[j]) - static_cast<double>(ps[j]);
        out.squared_norm += d * d;
        if (exact_) {
          out.sketch[index] = d;
        } else {
          const uint64_t h = mix(index);
          out.sketch[h % kSketchSize] += (h >> 63) ? d : -d;
        }
      }
    });
  }
  return out;
}

void DivergenceTracker::observe(int client_id, const ModelState& client) { observed_[client_id] = measure(client); }

std::map<int, Divergence> DivergenceTracker::finish(const ModelState& next) const {
  const double next_squared_norm = squared_norm(next);
  const Observed update = measure(next);  // w_new - w_prev
  std::map<int, Divergence> out;
  double update_sketch_squared = 0;
  for (double v : update.sketch) update_sketch_squared += v * v;
  for (const auto& [id, o] : observed_) {
    // Both remaining measures from the sketches (sketching is linear, so the sketch of
    // w_k - w_new is the difference of sketches): the distance and the angle are then relative to
    // the sketched norms, and an update equal to the aggregate's reads distance 0 and cosine 1.
    double dot = 0, own_squared = 0, distance_squared = 0;
    for (size_t b = 0; b < o.sketch.size(); ++b) {
      dot += o.sketch[b] * update.sketch[b];
      own_squared += o.sketch[b] * o.sketch[b];
      const double diff = o.sketch[b] - update.sketch[b];
      distance_squared += diff * diff;
    }
    Divergence d;
    d.to_previous = previous_squared_norm_ > 0 ? std::sqrt(o.squared_norm / previous_squared_norm_) : kNaN;
    d.to_new = next_squared_norm > 0 ? std::sqrt(distance_squared / next_squared_norm) : kNaN;
    d.cosine = (own_squared > 0 && update_sketch_squared > 0)
                   ? std::clamp(dot / std::sqrt(own_squared * update_sketch_squared), -1.0, 1.0)
                   : kNaN;
    out[id] = d;
  }
  return out;
}

}  // namespace flotilla
