// Inner Dirichlet: equal client sizes, skewed labels inside each client (the scheme of FedLab's
// client_inner_dirichlet_partition and Flower Datasets' InnerDirichletPartitioner).
//
// Client k gets N / num_clients samples (the first N mod num_clients clients one more). Its class
// proportions are w_k ~ Dir(alpha * C * prior), C being the number of classes with samples and
// prior each class's share of the labels. On balanced classes that is exactly the
// Dir(alpha, ..., alpha) of FedLab and Flower, so an alpha means the same as there (FedLab's 0.3
// on CIFAR-10 is 0.3 here); on imbalanced ones the expected mix stays the global one, as in
// Hsu et al. 2019, where a flat Dir(alpha) would over-represent rare classes.
//
// Then, N times: pick a client uniformly among those not yet full, pick a class with probability
// proportional to w_k over the classes that still have samples (w_k renormalised once a class
// runs out, as Flower does; FedLab re-draws until it hits a class with samples left, the same
// distribution, but one that can spin for very long at small alpha), and give the client that
// class's next sample (each class's samples are taken in a seeded shuffled order). If none of the
// classes left has any weight for this client (at small alpha w_k is exactly 0 outside a few
// classes), the class is picked in proportion to the samples it has left. So every step places a
// sample and the split takes exactly N steps for any alpha > 0.
// Small alpha: each client is dominated by one or two classes; large alpha: close to IID.
// Every index is used exactly once.
#pragma once

#include "partitioners/partitioner.h"

namespace flotilla {

struct InnerDirichletOptions {
  double alpha = 0.5;  // concentration per class (scaled by C x class prior); finite and > 0
};

// InvalidArgument naming the first option out of range.
Status check_inner_dirichlet_options(const InnerDirichletOptions& options);

// Stateless after construction: partition() may be called from several threads.
class InnerDirichletPartitioner final : public Partitioner {
 public:
  explicit InnerDirichletPartitioner(InnerDirichletOptions options) : options_(options) {}
  // Also InvalidArgument when the options are out of range.
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  // "inner_dirichlet" with option alpha.
  static PartitionerRegistry::Entry registry_entry();

 private:
  InnerDirichletOptions options_;
};

}  // namespace flotilla
