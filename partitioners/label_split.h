// Label split: every client holds exactly labels_per_client (K) classes ("#C=k" in NIID-Bench,
// Li et al. 2022). Only classes that occur in the labels count; call their number C, and c_0 <
// ... < c_(C-1) the classes themselves.
//
// Which client holds which class, by `assignment`:
// - rotation (the default): the C classes are put in a seeded random order p, and client k holds
//   p[(k*K + j) mod C] for j = 0..K-1. This walks round the shuffled classes K at a time, so a
//   client's K classes are distinct, every class is held as soon as num_clients * K >= C, and the
//   numbers of holders of any two classes differ by at most one.
// - niid_bench: NIID-Bench's own draw (partition_data, "noniid-#label<K>", in its partition.py):
//   client k holds c_(k mod C), then classes drawn uniformly at random (seeded) until it holds K
//   distinct ones. A class can so have one holder or several, and, with fewer than C clients,
//   none; client sizes vary more than under rotation. NIID-Bench's paper table uses this.
//
// Each held class's samples are shuffled (seeded) and cut into near-equal parts, one per holder
// in client order (sizes differ by at most one, the lower client ids taking the extra ones, as
// NumPy's array_split cuts them).
//
// The one case where samples are left out: a class nobody holds (rotation: when num_clients * K
// < C, the classes at positions num_clients * K .. C-1 of p; niid_bench: a class no client drew).
// Its samples belong to no client, and a warning names them. Otherwise every index is used
// exactly once.
#pragma once

#include <string>

#include "partitioners/partitioner.h"

namespace flotilla {

enum class LabelAssignment { kRotation, kNiidBench };

struct LabelSplitOptions {
  int64_t labels_per_client = 2;  // K; in [1, number of classes that occur in the labels]
  LabelAssignment assignment = LabelAssignment::kRotation;
};

// "rotation" or "niid_bench"; InvalidArgument naming both otherwise.
StatusOr<LabelAssignment> parse_label_assignment(const std::string& name);

// InvalidArgument unless labels_per_client >= 1 (the upper bound depends on the labels, so
// partition() checks it).
Status check_label_split_options(const LabelSplitOptions& options);

// Stateless after construction: partition() may be called from several threads.
class LabelSplitPartitioner final : public Partitioner {
 public:
  explicit LabelSplitPartitioner(LabelSplitOptions options) : options_(options) {}
  // Also InvalidArgument when labels_per_client is above num_classes or above the number of
  // classes that occur, or when some class has fewer samples than clients holding it (a holder
  // would get none of it, and so fewer than K classes).
  StatusOr<Partition> partition(std::span<const int64_t> labels, int64_t num_classes, int num_clients,
                                uint64_t seed) const override;
  // "label_split" with options labels_per_client and assignment.
  static PartitionerRegistry::Entry registry_entry();

 private:
  LabelSplitOptions options_;
};

}  // namespace flotilla
