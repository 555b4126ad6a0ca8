// Batched data augmentation for image batches [B, C, H, W]: every sample of a batch gets its own
// random transform, but the whole batch is transformed by a few tensor ops (pad, gather, where),
// so the cost does not grow with per-sample dispatch and the same code runs on CPU and CUDA.
//
// Randomness comes only from the CPU generator passed in (drawn there, then moved to the batch's
// device), so a given generator state gives the same batch bit for bit on any device. Not
// thread-safe with respect to the generator: one generator per training loop.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string_view>

namespace flotilla {

// Pixels of padding on each side before cropping back to H x W, as in He et al. 2016.
inline constexpr int64_t kCropPadding = 4;

// How random_crop fills the border: zeros, or the image mirrored at its edge.
enum class CropPadding { kZero, kReflect };

// Each sample is padded by `pad` pixels on every side and an H x W window is cut at a uniformly
// drawn offset (oy, ox) in [0, 2*pad]^2: out[b] = padded(x)[b, :, oy_b : oy_b+H, ox_b : ox_b+W].
// Draws B row offsets, then B column offsets, from `generator`. With kZero the images are usually
// already normalised, so the border is 0 in normalised space (the dataset mean), not black; with
// kReflect it mirrors the image (pad < H and W). pad >= 0; x 4-D floating point.
at::Tensor random_crop(const at::Tensor& x, int64_t pad, at::Generator& generator,
                       CropPadding padding = CropPadding::kZero);

// Each sample is mirrored left-right (last dimension) with probability 1/2; draws B coin flips.
at::Tensor random_horizontal_flip(const at::Tensor& x, at::Generator& generator);

// Applies the augmentation named by TrainConfig::augment (core/experiment.h): kAugmentNone
// returns x itself; kAugmentCropFlip is random_crop(x, kCropPadding) then
// random_horizontal_flip; kAugmentCropFlipReflect the same with reflection padding. The name must satisfy
// is_known_augment (checked; callers validate user input first). Returns a tensor of x's shape, dtype and device; x is
// not modified.
at::Tensor augment_batch(const at::Tensor& x, std::string_view augment, at::Generator& generator);

}  // namespace flotilla
