#include "compression/qsgd_codec.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "compression/counter_random.h"
#include "compression/payload_checks.h"

namespace flotilla {
namespace {

int64_t bucket_count(int64_t n, int64_t bucket) { return n == 0 ? 0 : (n - 1) / bucket + 1; }

// The bucket's scale as stored: m rounded up to float32, so that every |x| <= stored scale and
// levels never exceed s. Not finite when m exceeds float32's range.
template <typename T>
float bucket_scale(const T* x, int64_t size, bool l2_norm) {
  double m = 0;
  if (l2_norm) {
    for (int64_t i = 0; i < size; ++i) m += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    m = std::sqrt(m);
  } else {
    for (int64_t i = 0; i < size; ++i) m = std::max(m, std::fabs(static_cast<double>(x[i])));
  }
  float stored = static_cast<float>(m);
  if (static_cast<double>(stored) < m) stored = std::nextafter(stored, std::numeric_limits<float>::infinity());
  return stored;
}

template <typename T>
Status quantize(const std::string& name, const T* x, int64_t n, const QsgdOptions& options, uint64_t seed, int8_t* q,
                float* scales) {
  const double s = options.levels;
  for (int64_t b = 0, begin = 0; begin < n; ++b, begin += options.bucket) {
    const int64_t size = std::min(options.bucket, n - begin);
    const float m = bucket_scale(x + begin, size, options.l2_norm);
    if (!std::isfinite(m))
      return invalid_argument_error("update tensor '" + name + "': the scale of bucket " + std::to_string(b) +
                                    " exceeds float32's range");
    scales[b] = m;
    const double per_level = m > 0 ? s / static_cast<double>(m) : 0.0;
    for (int64_t i = begin; i < begin + size; ++i) {
      const double v = static_cast<double>(x[i]);
      const double r = std::fabs(v) * per_level;  // in [0, s] up to rounding
      const double floor_r = std::floor(r);
      double level = floor_r + (counter_uniform(seed, static_cast<uint64_t>(i)) < r - floor_r ? 1.0 : 0.0);
      level = std::min(level, s);
      q[i] = static_cast<int8_t>(v < 0 ? -level : level);
    }
  }
  return Status();
}

}  // namespace

QsgdCodec::QsgdCodec(QsgdOptions options) : options_(options) {
  FLOTILLA_CHECK(options.levels >= 1 && options.levels <= 127) << "qsgd levels " << options.levels;
  FLOTILLA_CHECK(options.bucket >= 1) << "qsgd bucket " << options.bucket;
}

std::vector<std::string> QsgdCodec::payload_names(const std::string& name) const {
  return {name + "#q8", name + "#scale"};
}

Status QsgdCodec::encode_tensor(const std::string& name, const at::Tensor& x, uint64_t seed,
                                ModelState& payload) const {
  const int64_t n = x.numel();
  at::Tensor q = at::empty({n}, at::kChar);
  at::Tensor scales = at::empty({bucket_count(n, options_.bucket)}, at::kFloat);
  Status status;
  if (x.scalar_type() == at::kDouble) {
    status = quantize(name, x.data_ptr<double>(), n, options_, seed, q.data_ptr<int8_t>(), scales.data_ptr<float>());
  } else {
    const at::Tensor f = x.to(at::kFloat).contiguous();  // exact for float16 and bfloat16
    status = quantize(name, f.data_ptr<float>(), n, options_, seed, q.data_ptr<int8_t>(), scales.data_ptr<float>());
  }
  RETURN_IF_ERROR(status);
  const auto names = payload_names(name);
  payload.add(names[0], std::move(q));
  payload.add(names[1], std::move(scales));
  return Status();
}

StatusOr<at::Tensor> QsgdCodec::decode_tensor(const std::vector<NamedTensor>& parts, const at::Tensor& like) const {
  const int64_t n = like.numel();
  const int64_t num_buckets = bucket_count(n, options_.bucket);
  const NamedTensor& q_part = parts[0];
  const NamedTensor& scale_part = parts[1];
  RETURN_IF_ERROR(expect_dtype_and_shape(q_part, at::kChar, {n}));
  RETURN_IF_ERROR(expect_dtype_and_shape(scale_part, at::kFloat, {num_buckets}));
  const int8_t* q = q_part.tensor.data_ptr<int8_t>();
  const float* scales = scale_part.tensor.data_ptr<float>();
  const int s = options_.levels;
  for (int64_t b = 0; b < num_buckets; ++b) {
    if (!std::isfinite(scales[b]) || scales[b] < 0)
      return invalid_argument_error("tensor '" + scale_part.name + "' has scale " + std::to_string(scales[b]) +
                                    " for bucket " + std::to_string(b) + "; scales are finite and >= 0");
  }
  at::Tensor out = at::empty({n}, at::kFloat);
  float* y = out.data_ptr<float>();
  for (int64_t b = 0, begin = 0; begin < n; ++b, begin += options_.bucket) {
    const double step = static_cast<double>(scales[b]) / s;
    const int64_t end = std::min(n, begin + options_.bucket);
    for (int64_t i = begin; i < end; ++i) {
      if (q[i] < -s || q[i] > s)
        return invalid_argument_error("tensor '" + q_part.name + "' has level " + std::to_string(q[i]) +
                                      " at element " + std::to_string(i) + ", outside [-" + std::to_string(s) + ", " +
                                      std::to_string(s) + "]");
      y[i] = static_cast<float>(step * q[i]);  // |y| <= scale: finite
    }
  }
  return out.reshape(like.sizes());
}

CodecRegistry::Entry QsgdCodec::registry_entry() {
  return {"qsgd",
          "QSGD stochastic quantisation: int8 levels and a float32 scale per bucket (about 1/4 of float32), unbiased",
          {{"levels", "127", "quantisation levels s per sign, in [1, 127]"},
           {"bucket", "1024", "elements per scale, >= 1"},
           {"norm", "max", "bucket scale: max (max |x|, lower variance) or l2 (the paper's L2 norm)"}},
          [](const Options& o) -> StatusOr<std::unique_ptr<UpdateCodec>> {
            QsgdOptions options;
            ASSIGN_OR_RETURN(const int64_t levels, o.get_int("levels"));
            ASSIGN_OR_RETURN(options.bucket, o.get_int("bucket"));
            ASSIGN_OR_RETURN(const std::string norm, o.get_string("norm"));
            if (levels < 1 || levels > 127)
              return invalid_argument_error("option 'levels' = " + std::to_string(levels) + " is not in [1, 127]");
            if (options.bucket < 1)
              return invalid_argument_error("option 'bucket' = " + std::to_string(options.bucket) + " is not >= 1");
            if (norm != "max" && norm != "l2")
              return invalid_argument_error("option 'norm' = '" + norm + "' is neither 'max' nor 'l2'");
            options.levels = static_cast<int>(levels);
            options.l2_norm = norm == "l2";
            return std::unique_ptr<UpdateCodec>(new QsgdCodec(options));
          }};
}

}  // namespace flotilla
