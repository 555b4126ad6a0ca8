// The protocol's messages as plain C++ values. Only protocol/ sees the generated *.pb.h; the
// rest of Flotilla builds and reads these structs and lets protocol/codec.h put them on frames.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/client_half.h"
#include "core/experiment.h"
#include "core/model_state.h"

namespace flotilla {

// Bumped on any incompatible change of messages.proto; checked at registration and on every
// envelope.
inline constexpr uint32_t kProtocolVersion = 11;

struct Capabilities {
  std::string hostname;
  int pid = 0;
  std::string device;
  int threads = 0;
  // Where other client processes reach this one for decentralised training (ring all-reduce,
  // gossip): its peer endpoint, e.g. "tcp://10.0.0.7:41000"; empty when it takes no peer traffic.
  std::string peer_endpoint;
};

namespace msg {

// A member of a decentralised group, as a round task names it.
struct CollectivePeer {
  int rank = 0;
  int client_id = -1;
  std::string endpoint;    // its Capabilities::peer_endpoint
  std::string public_key;  // its CURVE public key (Z85) when the run is encrypted, else empty
  double weight = 0.0;     // gossip: W_ij, the receiver's mixing weight for this member (its own: W_ii)
};

// How the clients of a decentralised round combine their models among themselves (no server in
// the data path). Empty topology: a star round, the coordinator aggregates.
struct CollectiveTask {
  std::string topology;  // "" | "ring-allreduce" | "gossip"
  // "model": train locally, then average models (ring) or mix with neighbours (gossip);
  // "gradient" (ring only): all-reduce the gradients at every step (synchronous data parallel SGD).
  std::string sync = "model";
  int rank = 0;
  // Every member of the group, ranks 0..N-1, the receiver among them. Gossip mixes with the
  // members of non-zero weight (its neighbours and itself); weights of a row sum to 1.
  std::vector<CollectivePeer> peers;
  bool report_model = false;    // answer with the model (an evaluation round), else metrics only
  double timeout_seconds = 60;  // a peer silent this long fails the collective
  bool empty() const { return topology.empty(); }
};

// What a client tells the coordinator of one logical client's own data (a site's files, protocol
// 8): enough to check that the data fits the model before round 1 and to agree on normalisation,
// and nothing of the samples themselves. docs/bring_your_own.md lists it field by field.
struct DataReport {
  int client_id = -1;
  int64_t train_samples = 0;
  int64_t test_samples = 0;           // 0: the site has no test split
  std::vector<int64_t> sample_shape;  // one sample's shape, e.g. {1, 28, 28} or {13} (tabular)
  std::string dtype;                  // "uint8" or "float32"
  int64_t num_classes = 0;            // largest label + 1 over train and test (or the file's own)
  // Training samples of each class; empty when the site withholds them (--withhold-label-counts).
  std::vector<int64_t> label_counts;
  // Per-channel (dimension 1) sums of the training inputs on the model's scale (uint8 / 255, float
  // as is) and how many values each channel summed: federated normalisation needs only these.
  std::vector<double> input_sum;
  std::vector<double> input_sum_sq;
  int64_t input_count = 0;
};

struct Register {
  std::vector<int> client_ids;
  Capabilities capabilities;
  uint64_t instance_id = 0;  // random per client process; see messages.proto
  // One per hosted client when the process trains on its own data (--local-data); empty when it
  // cuts its share out of a public data set.
  std::vector<DataReport> data;
  // TorchScript archives (a model is code): the hex SHA-256 of the archive the client holds itself
  // (--model torchscript:PATH; empty: none, the run's must be shipped in the welcome), of the one
  // archive it agrees to run (--model-sha256; empty: no pin), and whether it runs whatever archive
  // is shipped (--trust-coordinator-model). The coordinator refuses a registration that would not
  // run the run's archive, before round 1; the client checks again on its side.
  std::string model_sha256;
  std::string accepted_model_sha256;
  bool trusts_shipped_model = false;
};

struct Welcome {
  std::vector<int> client_ids;
  Experiment experiment;
  // The run's TorchScript archive (its SHA-256 is in experiment.model), when the model is one and
  // the client did not say it holds it. Travels as a frame of its own, never in the envelope.
  std::string model_archive;
};

// One task for all the logical clients of one process that train this round: the global model
// travels once per process. Each client answers with its own ClientUpdate.
// What a client does to its update before sending it (protocol 9; privacy/update_clipping.h).
struct UpdatePrivacy {
  double clip_norm = 0.0;         // clip trained - global to this L2 norm; 0: no privacy processing
  double noise_stddev = 0.0;      // local DP: Gaussian noise per element after clipping; 0: none
  bool report_unclipped = false;  // send the extra "dp.unclipped" (adaptive clipping)

  bool enabled() const { return clip_norm > 0; }
};

// Secure aggregation (protocol 10; secagg/protocol.h, docs/privacy.md): what a round task tells
// each client of the round's protocol, and how to turn its update into the vector it masks.
struct SecureAggregationTask {
  std::vector<int> participants;  // every client of the round, ascending (the neighbour graph's nodes)
  int threshold = 0;              // t: shares that reconstruct a secret; 0: secure aggregation is off
  int neighbours = 0;             // k of SecAgg+ (0: every other participant)
  uint64_t graph_seed = 0;        // the coordinator's random regular graph
  int fraction_bits = 0;          // fixed-point encoding (secagg/fixed_point.h) of the masked vector
  double bound = 0.0;             // |element| the encoding takes, per client
  double clip_norm = 0.0;         // the delta (trained - global) is clipped to this L2 norm
  bool equal_weights = false;     // every update weighs 1 (DP-FedAvg) instead of its sample count
  // DP under secure aggregation: this client's share of the noise (per element of the delta, and
  // of the unclipped count under adaptive clipping); the shares of any t clients add up to the
  // noise DP-FedAvg needs.
  double noise_stddev = 0.0;
  double count_noise_stddev = 0.0;
  bool report_unclipped = false;  // adds 1 (within the clip norm) or 0 to the vector's tail
  // > 0: the client's extras (SCAFFOLD's delta_c), unweighted, follow its delta in the vector, each
  // element within this bound; 0: the rule takes no extras.
  double extras_bound = 0.0;

  bool enabled() const { return threshold > 0; }
};

struct RoundTask {
  int round = 0;
  std::vector<int> client_ids;
  TrainConfig config;
  ClientHalf algorithm;  // the client half to train with
  ModelState state;
  ModelState extras;                 // the server half's task_extras()
  std::string compression = "none";  // codec spec for the updates (compression/codec_spec.h)
  // Asynchronous studies: the client waits this long after training before it answers (a slow
  // device or network, chosen by the coordinator's delay model). 0: answer at once.
  double delay_seconds = 0.0;
  CollectiveTask collective;  // decentralised rounds only
  // Names the task among all the run's tasks, those of an earlier coordinator process included
  // (the coordinator starts its ids at a random 64-bit value): an answer carries it back, so that
  // an update a client computed for a coordinator that has restarted since is not taken for the
  // answer to the new coordinator's task of the same round and client.
  uint64_t task_id = 0;
  UpdatePrivacy privacy;                     // off unless the run is differentially private
  SecureAggregationTask secure_aggregation;  // off unless the run aggregates securely
};

struct ClientUpdate {
  int round = 0;
  int client_id = -1;
  int64_t num_samples = 0;
  double train_loss = 0.0;
  double train_seconds = 0.0;
  double total_seconds = 0.0;
  int64_t steps = 0;  // local optimizer steps
  // With compression "none" the trained model; otherwise the codec's payload of the update
  // (trained - global), which the coordinator decodes and checks against the global model.
  ModelState state;
  ModelState extras;  // what the client half sent beside the model
  std::map<std::string, double> metrics;
  std::string compression = "none";
  uint64_t task_id = 0;  // of the RoundTask this answers
};

// Federated evaluation (protocol 8): the logical clients of one process evaluate `state` on their
// own test data (their test split, else their held-out slice), each answering with an
// EvaluateResult.
struct EvaluateTask {
  int round = 0;
  std::vector<int> client_ids;
  ModelState state;
  TrainConfig config;    // for its input normalisation and batch size
  uint64_t task_id = 0;  // echoed by each result, like a round task's
};

struct EvaluateResult {
  int round = 0;
  int client_id = -1;
  int64_t num_samples = 0;
  double loss = 0.0;
  double accuracy = 0.0;
  // Per class: test samples and those classified right; empty when the site withholds its label
  // counts.
  std::vector<int64_t> class_total;
  std::vector<int64_t> class_correct;
  uint64_t task_id = 0;
};

// One step of a round's secure aggregation (protocol 10), both ways. A client's task answer is its
// stage 0 step: its keys and what it says of its training (no update leaves in the clear).
//   stage 0, client:      keys (its own), report
//   stage 1, coordinator: keys (its neighbours'); client: sealed (its shares, one per neighbour)
//   stage 2, coordinator: sealed (addressed to it); client: masked
//   stage 3, coordinator: survivors, dropped; client: self_mask_shares, mask_key_shares
struct SecAggKeys {
  int id = -1;
  std::string cipher_public_key;  // 32 bytes each
  std::string mask_public_key;
};
struct SecAggSealed {
  int from = -1;
  int to = -1;
  std::string sealed;
};
struct SecAggShare {
  int owner = -1;  // whose secret
  uint32_t x = 0;
  std::vector<uint64_t> values;
};
struct SecAggReport {
  double train_loss = 0.0;
  double train_seconds = 0.0;
  int64_t steps = 0;
  double update_norm = 0.0;  // of the delta before clipping, computed by the client
  std::map<std::string, double> metrics;
};
struct SecAggStep {
  int round = 0;
  uint64_t task_id = 0;  // of the RoundTask the round's protocol belongs to
  int client_id = -1;
  int stage = 0;  // 0 advertise, 1 share, 2 mask, 3 unmask
  std::vector<SecAggKeys> keys;
  std::vector<SecAggSealed> sealed;
  // Stage 2: the masked words (mod 2^64), as int64 tensors laid out like the vector they mask
  // (secagg/update_vector.h); frames after the envelope like a model's.
  ModelState masked;
  std::vector<int> survivors;
  std::vector<int> dropped;
  std::vector<SecAggShare> self_mask_shares;
  std::vector<SecAggShare> mask_key_shares;
  SecAggReport report;
};

struct Error {
  int code = 0;  // a StatusCode value
  std::string message;
  int client_id = -1;
  int round = 0;
  uint64_t task_id = 0;  // of the RoundTask that failed; 0: not a task's error
};

struct Shutdown {
  std::string reason;
};

struct Heartbeat {};

// Flow control of updates: a client offers each answer (ClientUpdate) it has ready and sends it
// when granted, so the coordinator holds only the uploads it has granted (within its upload
// memory), however many clients finish at once. An answer sent unasked is still taken.
struct UploadOffer {
  uint64_t task_id = 0;  // of the RoundTask the answer is for
  int client_id = -1;
  int64_t bytes = 0;  // the answer's frames, summed
};

struct UploadGrant {
  uint64_t task_id = 0;
  int client_id = -1;
  bool send = true;  // false: the answer is no longer wanted (its round ended, a newer task was sent)
};

}  // namespace msg

using Message =
    std::variant<msg::Register, msg::Welcome, msg::RoundTask, msg::ClientUpdate, msg::EvaluateTask, msg::EvaluateResult,
                 msg::Error, msg::Shutdown, msg::Heartbeat, msg::UploadOffer, msg::UploadGrant, msg::SecAggStep>;

// "register", "round_task", ... for logs.
const char* message_name(const Message& message);

}  // namespace flotilla
