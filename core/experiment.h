// Experiment and TrainConfig: what the coordinator tells every client so that all of them
// rebuild the same data split and model, and train the same way.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace flotilla {

struct Experiment {
  std::string dataset;
  std::string model;
  int num_clients = 0;
  std::string partitioner = "iid";
  std::map<std::string, std::string> partitioner_options;
  uint64_t seed = 0;
  double holdout_fraction = 0.0;
  // With dataset kLocalDataset (each client trains on its own files): the model's input as the
  // coordinator fixed it, one sample's shape ({1, 28, 28}, {13}...) and the number of classes.
  // Every client builds the model from these and must hold data of this shape. Empty otherwise:
  // the public data set defines both.
  std::vector<int64_t> sample_shape;
  int64_t num_classes = 0;

  // A client welcomed again (after a reconnect or a coordinator restart) keeps its loaded data
  // when the experiment is the same.
  bool operator==(const Experiment&) const = default;
};

// Experiment::dataset of a run whose clients train on their own data (a site's files), not on
// shares of a public data set.
inline constexpr std::string_view kLocalDataset = "local";

struct TrainConfig {
  int epochs = 1;
  int batch_size = 32;
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 0.0;
  uint64_t seed = 0;     // the client derives its shuffling seed from this and its id
  double prox_mu = 0.0;  // FedProx proximal term; 0 = plain local SGD
  // Training-batch augmentation: one of the kAugment* names below.
  std::string augment = "none";
  // Threads that train this client's model at once, lock-free (Hogwild!, training/hogwild.h):
  // 1 = the sequential trainer, bit-reproducible; T > 1 = T threads over disjoint slices of each
  // epoch's batches, on the CPU only, not bit-reproducible. Total steps per epoch are the same.
  int local_threads = 1;
  // Input normalisation the coordinator agreed on (given, computed from the clients' sums, or the
  // identity for a public data set's --normalize none): per channel, model input =
  // (x - mean[c]) / std[c], x on the 0..1 scale for uint8 data. Empty: the data set's own (the
  // public readers' statistics) or, for clients' own data, none. Non-empty replaces the readers'.
  std::vector<double> input_mean;
  std::vector<double> input_std;
};

// TrainConfig::augment values. Kept here, not in training/, because the codec and the coordinator
// validate them without linking torch.
inline constexpr std::string_view kAugmentNone = "none";
// Random crop after zero padding by 4 pixels, then random horizontal flip (training/augment.h).
// Meant for natural images such as CIFAR-10; flipping hurts digits and text.
inline constexpr std::string_view kAugmentCropFlip = "crop_flip";
// The same with reflection padding (the border mirrors the image), as NIID-Bench and torchvision's
// RandomCrop(padding_mode="reflect") train CIFAR-10.
inline constexpr std::string_view kAugmentCropFlipReflect = "crop_flip_reflect";

inline bool is_known_augment(std::string_view name) {
  return name == kAugmentNone || name == kAugmentCropFlip || name == kAugmentCropFlipReflect;
}

}  // namespace flotilla
