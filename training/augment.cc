#include "training/augment.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/reflection_pad2d.h>
#include <ATen/ops/where.h>

#include "core/check.h"
#include "core/experiment.h"

namespace flotilla {
namespace {

// B integers uniform in [0, high), drawn on the CPU generator whatever the batch's device, then
// moved there: the draws, and so the augmented batch, do not depend on the device.
at::Tensor draw(int64_t high, int64_t b, at::Generator& generator, c10::Device device) {
  return at::randint(0, high, {b}, generator, at::TensorOptions().dtype(at::kLong)).to(device);
}

}  // namespace

at::Tensor random_crop(const at::Tensor& x, int64_t pad, at::Generator& generator, CropPadding padding) {
  FLOTILLA_CHECK(x.dim() == 4) << "random_crop wants [B, C, H, W], got " << x.dim() << " dimensions";
  FLOTILLA_CHECK(pad >= 0) << "random_crop padding " << pad;
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  FLOTILLA_CHECK(padding == CropPadding::kZero || (pad < h && pad < w))
      << "reflection padding of " << pad << " needs images larger than that, got " << h << "x" << w;
  const at::Tensor oy = draw(2 * pad + 1, b, generator, x.device());
  const at::Tensor ox = draw(2 * pad + 1, b, generator, x.device());
  const at::Tensor padded = padding == CropPadding::kReflect ? at::reflection_pad2d(x, {pad, pad, pad, pad})
                                                             : at::constant_pad_nd(x, {pad, pad, pad, pad}, 0);
  // A crop is a per-sample shifted window: gather rows oy_b .. oy_b+H-1 for every sample, then
  // columns ox_b .. ox_b+W-1, with index tensors broadcast over channels. Two gathers replace a
  // loop over samples and stay one kernel each on CUDA.
  const auto index_options = at::TensorOptions().dtype(at::kLong).device(x.device());
  const at::Tensor rows = oy.view({b, 1}).add(at::arange(h, index_options));  // [B, H]
  const at::Tensor cols = ox.view({b, 1}).add(at::arange(w, index_options));  // [B, W]
  const at::Tensor band = padded.gather(2, rows.view({b, 1, h, 1}).expand({b, c, h, w + 2 * pad}));
  return band.gather(3, cols.view({b, 1, 1, w}).expand({b, c, h, w}));
}

at::Tensor random_horizontal_flip(const at::Tensor& x, at::Generator& generator) {
  FLOTILLA_CHECK(x.dim() == 4) << "random_horizontal_flip wants [B, C, H, W], got " << x.dim() << " dimensions";
  const int64_t b = x.size(0);
  const at::Tensor flip = draw(2, b, generator, x.device()).to(at::kBool).view({b, 1, 1, 1});
  return at::where(flip, x.flip({3}), x);
}

at::Tensor augment_batch(const at::Tensor& x, std::string_view augment, at::Generator& generator) {
  FLOTILLA_CHECK(is_known_augment(augment)) << "unknown augmentation '" << augment << "'";
  if (augment == kAugmentNone) return x;
  const CropPadding padding = augment == kAugmentCropFlipReflect ? CropPadding::kReflect : CropPadding::kZero;
  return random_horizontal_flip(random_crop(x, kCropPadding, generator, padding), generator);
}

}  // namespace flotilla
