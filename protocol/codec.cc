#include "protocol/codec.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <google/protobuf/stubs/logging.h>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <set>
#include <variant>

#include "flotilla/v1/messages.pb.h"

namespace flotilla {
namespace {

namespace pb = ::flotilla::v1;

// ---- dtypes ---------------------------------------------------------------------------------

pb::DType to_wire(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return pb::FLOAT32;
    case at::kDouble:
      return pb::FLOAT64;
    case at::kHalf:
      return pb::FLOAT16;
    case at::kBFloat16:
      return pb::BFLOAT16;
    case at::kLong:
      return pb::INT64;
    case at::kInt:
      return pb::INT32;
    case at::kShort:
      return pb::INT16;
    case at::kChar:
      return pb::INT8;
    case at::kByte:
      return pb::UINT8;
    case at::kBool:
      return pb::BOOL;
    default:
      return pb::DTYPE_UNSPECIFIED;
  }
}

StatusOr<at::ScalarType> from_wire(int dtype) {
  switch (dtype) {
    case pb::FLOAT32:
      return at::kFloat;
    case pb::FLOAT64:
      return at::kDouble;
    case pb::FLOAT16:
      return at::kHalf;
    case pb::BFLOAT16:
      return at::kBFloat16;
    case pb::INT64:
      return at::kLong;
    case pb::INT32:
      return at::kInt;
    case pb::INT16:
      return at::kShort;
    case pb::INT8:
      return at::kChar;
    case pb::UINT8:
      return at::kByte;
    case pb::BOOL:
      return at::kBool;
    default:
      return invalid_argument_error("unknown tensor dtype " + std::to_string(dtype));
  }
}

// ---- encoding -------------------------------------------------------------------------------

// Fills `header` and appends one frame per tensor, each owning (a reference to) its tensor.
void encode_state(const ModelState& state, pb::StateHeader* header, Frames* frames) {
  for (const auto& e : state.entries()) {
    FLOTILLA_CHECK(e.tensor.device().is_cpu()) << "encode: tensor '" << e.name << "' is not on CPU";
    auto* spec = header->add_tensors();
    spec->set_name(e.name);
    const pb::DType dtype = to_wire(e.tensor.scalar_type());
    FLOTILLA_CHECK(dtype != pb::DTYPE_UNSPECIFIED) << "encode: unsupported dtype of '" << e.name << "'";
    spec->set_dtype(dtype);
    for (int64_t d : e.tensor.sizes()) spec->add_shape(d);
    auto owner = std::make_shared<const at::Tensor>(e.tensor.contiguous());
    const void* data = owner->data_ptr();
    const size_t size = static_cast<size_t>(owner->numel()) * owner->element_size();
    frames->push_back(Frame::from_owner(std::move(owner), data, size));
  }
}

void to_proto(const TrainConfig& c, pb::TrainConfig* p) {
  p->set_epochs(c.epochs);
  p->set_batch_size(c.batch_size);
  p->set_lr(c.lr);
  p->set_momentum(c.momentum);
  p->set_weight_decay(c.weight_decay);
  p->set_seed(c.seed);
  p->set_prox_mu(c.prox_mu);
  p->set_augment(c.augment);
  p->set_local_threads(c.local_threads);
  for (double m : c.input_mean) p->add_input_mean(m);
  for (double d : c.input_std) p->add_input_std(d);
}

StatusOr<TrainConfig> from_proto(const pb::TrainConfig& p) {
  TrainConfig c;
  c.epochs = p.epochs();
  c.batch_size = p.batch_size();
  c.lr = p.lr();
  c.momentum = p.momentum();
  c.weight_decay = p.weight_decay();
  c.seed = p.seed();
  c.prox_mu = p.prox_mu();
  // Unset on the wire means the peer predates augmentation, which trained without it.
  c.augment = p.augment().empty() ? std::string(kAugmentNone) : p.augment();
  if (!is_known_augment(c.augment))
    return invalid_argument_error("unknown augmentation '" + c.augment + "' in the train config");
  c.local_threads = p.local_threads() == 0 ? 1 : p.local_threads();
  if (c.local_threads < 1 || c.local_threads > kMaxLocalThreads)
    return invalid_argument_error("train config asks for " + std::to_string(p.local_threads()) + " local threads; 1.." +
                                  std::to_string(kMaxLocalThreads) + " are allowed");
  c.input_mean.assign(p.input_mean().begin(), p.input_mean().end());
  c.input_std.assign(p.input_std().begin(), p.input_std().end());
  if (c.input_mean.size() != c.input_std.size() || c.input_mean.size() > kMaxChannels)
    return invalid_argument_error("train config gives " + std::to_string(c.input_mean.size()) + " input means and " +
                                  std::to_string(c.input_std.size()) + " stds (equal counts, at most " +
                                  std::to_string(kMaxChannels) + ")");
  for (size_t i = 0; i < c.input_mean.size(); ++i)
    if (!std::isfinite(c.input_mean[i]) || !std::isfinite(c.input_std[i]) || !(c.input_std[i] > 0))
      return invalid_argument_error("train config's input normalisation of channel " + std::to_string(i) +
                                    " is not finite or has a std <= 0");
  return c;
}

void to_proto(const msg::DataReport& d, pb::DataReport* p) {
  p->set_client_id(d.client_id);
  p->set_train_samples(d.train_samples);
  p->set_test_samples(d.test_samples);
  for (int64_t s : d.sample_shape) p->add_sample_shape(s);
  p->set_dtype(d.dtype);
  p->set_num_classes(d.num_classes);
  for (int64_t c : d.label_counts) p->add_label_counts(c);
  for (double v : d.input_sum) p->add_input_sum(v);
  for (double v : d.input_sum_sq) p->add_input_sum_sq(v);
  p->set_input_count(d.input_count);
}

// A report the coordinator can reason about: sizes in range, counts that add up, finite sums.
// Whether the data fits the model is the coordinator's question, not the decoder's.
StatusOr<msg::DataReport> from_proto(const pb::DataReport& p) {
  msg::DataReport d;
  d.client_id = p.client_id();
  d.train_samples = p.train_samples();
  d.test_samples = p.test_samples();
  d.sample_shape.assign(p.sample_shape().begin(), p.sample_shape().end());
  d.dtype = p.dtype();
  d.num_classes = p.num_classes();
  d.label_counts.assign(p.label_counts().begin(), p.label_counts().end());
  d.input_sum.assign(p.input_sum().begin(), p.input_sum().end());
  d.input_sum_sq.assign(p.input_sum_sq().begin(), p.input_sum_sq().end());
  d.input_count = p.input_count();
  const std::string who = "data report of client " + std::to_string(d.client_id);
  if (d.train_samples < 1 || d.test_samples < 0)
    return invalid_argument_error(who + ": " + std::to_string(d.train_samples) + " training and " +
                                  std::to_string(d.test_samples) + " test samples");
  if (d.sample_shape.empty() || d.sample_shape.size() > kMaxSampleRank)
    return invalid_argument_error(who + ": a sample shape of rank " + std::to_string(d.sample_shape.size()));
  for (int64_t s : d.sample_shape)
    if (s < 1 || s > kMaxSampleExtent)
      return invalid_argument_error(who + ": a sample dimension of " + std::to_string(s));
  if (d.dtype != "uint8" && d.dtype != "float32")
    return invalid_argument_error(who + ": dtype '" + d.dtype + "' (uint8 or float32)");
  if (d.num_classes < 2 || d.num_classes > kMaxClasses)
    return invalid_argument_error(who + ": " + std::to_string(d.num_classes) + " classes (2.." +
                                  std::to_string(kMaxClasses) + ")");
  if (!d.label_counts.empty()) {
    if (static_cast<int64_t>(d.label_counts.size()) != d.num_classes)
      return invalid_argument_error(who + ": " + std::to_string(d.label_counts.size()) + " label counts for " +
                                    std::to_string(d.num_classes) + " classes");
    int64_t total = 0;
    for (int64_t c : d.label_counts) {
      if (c < 0 || c > d.train_samples) return invalid_argument_error(who + ": a label count of " + std::to_string(c));
      total += c;
    }
    if (total != d.train_samples)
      return invalid_argument_error(who + ": label counts add up to " + std::to_string(total) + ", not its " +
                                    std::to_string(d.train_samples) + " training samples");
  }
  const size_t channels = d.sample_shape.size() > 0 ? static_cast<size_t>(d.sample_shape[0]) : 0;
  if (d.input_sum.size() != channels || d.input_sum_sq.size() != channels || d.input_count < 1)
    return invalid_argument_error(who + ": input sums for " + std::to_string(d.input_sum.size()) + " channels, the " +
                                  "sample shape has " + std::to_string(channels));
  for (size_t c = 0; c < channels; ++c)
    if (!std::isfinite(d.input_sum[c]) || !std::isfinite(d.input_sum_sq[c]) || d.input_sum_sq[c] < 0)
      return invalid_argument_error(who + ": input sums of channel " + std::to_string(c) + " are not finite");
  return d;
}

void to_proto(const msg::CollectiveTask& c, pb::Collective* p) {
  p->set_topology(c.topology);
  p->set_sync(c.sync);
  p->set_rank(c.rank);
  p->set_report_model(c.report_model);
  p->set_timeout_seconds(c.timeout_seconds);
  for (const auto& peer : c.peers) {
    auto* q = p->add_peers();
    q->set_rank(peer.rank);
    q->set_client_id(peer.client_id);
    q->set_endpoint(peer.endpoint);
    q->set_public_key(peer.public_key);
    q->set_weight(peer.weight);
  }
}

// A collective a client can act on: a known topology and sync, ranks in range and distinct,
// every peer reachable, gossip weights a row of a mixing matrix.
StatusOr<msg::CollectiveTask> from_proto(const pb::Collective& p) {
  msg::CollectiveTask c;
  c.topology = p.topology();
  c.sync = p.sync().empty() ? "model" : p.sync();
  c.rank = p.rank();
  c.report_model = p.report_model();
  c.timeout_seconds = p.timeout_seconds();
  if (c.topology != "ring-allreduce" && c.topology != "gossip")
    return invalid_argument_error("unknown collective topology '" + c.topology + "' (ring-allreduce or gossip)");
  if (c.sync != "model" && !(c.sync == "gradient" && c.topology == "ring-allreduce"))
    return invalid_argument_error("collective sync '" + c.sync + "' is not possible with " + c.topology);
  if (!std::isfinite(c.timeout_seconds) || c.timeout_seconds <= 0 || c.timeout_seconds > kMaxDelaySeconds)
    return invalid_argument_error("collective timeout of " + std::to_string(c.timeout_seconds) + " s");
  if (p.peers_size() > kMaxCollectivePeers)
    return invalid_argument_error("collective names " + std::to_string(p.peers_size()) + " peers, over the limit of " +
                                  std::to_string(kMaxCollectivePeers));
  std::set<int> ranks;
  double row = 0;
  for (const auto& q : p.peers()) {
    msg::CollectivePeer peer{q.rank(), q.client_id(), q.endpoint(), q.public_key(), q.weight()};
    if (peer.rank < 0 || peer.rank >= kMaxCollectivePeers || !ranks.insert(peer.rank).second)
      return invalid_argument_error("collective peer rank " + std::to_string(peer.rank) +
                                    " is out of range or repeated");
    if (peer.endpoint.empty())
      return invalid_argument_error("collective peer " + std::to_string(peer.rank) + " has no endpoint");
    if (!std::isfinite(peer.weight) || peer.weight < 0 || peer.weight > 1)
      return invalid_argument_error("collective peer " + std::to_string(peer.rank) + " has mixing weight " +
                                    std::to_string(peer.weight));
    row += peer.weight;
    c.peers.push_back(std::move(peer));
  }
  if (!ranks.count(c.rank) || static_cast<int>(ranks.size()) != *ranks.rbegin() + 1)
    return invalid_argument_error("collective peers must be ranks 0..N-1 including the receiver's rank " +
                                  std::to_string(c.rank));
  if (c.topology == "gossip" && std::abs(row - 1.0) > 1e-9)
    return invalid_argument_error("gossip mixing weights sum to " + std::to_string(row) + ", not 1");
  return c;
}

void to_proto(const Experiment& e, pb::Experiment* p) {
  p->set_dataset(e.dataset);
  p->set_model(e.model);
  p->set_num_clients(e.num_clients);
  p->set_partitioner(e.partitioner);
  for (const auto& [k, v] : e.partitioner_options) (*p->mutable_partitioner_options())[k] = v;
  p->set_seed(e.seed);
  p->set_holdout_fraction(e.holdout_fraction);
  for (int64_t d : e.sample_shape) p->add_sample_shape(d);
  p->set_num_classes(e.num_classes);
}

Experiment from_proto(const pb::Experiment& p) {
  Experiment e;
  e.dataset = p.dataset();
  e.model = p.model();
  e.num_clients = p.num_clients();
  e.partitioner = p.partitioner();
  for (const auto& [k, v] : p.partitioner_options()) e.partitioner_options[k] = v;
  e.seed = p.seed();
  e.holdout_fraction = p.holdout_fraction();
  e.sample_shape.assign(p.sample_shape().begin(), p.sample_shape().end());
  e.num_classes = p.num_classes();
  return e;
}

// Secure aggregation (protocol 10).
void to_proto(const msg::SecureAggregationTask& t, pb::SecureAggregation* p) {
  for (int id : t.participants) p->add_participants(id);
  p->set_threshold(static_cast<uint32_t>(t.threshold));
  p->set_neighbours(static_cast<uint32_t>(t.neighbours));
  p->set_graph_seed(t.graph_seed);
  p->set_fraction_bits(t.fraction_bits);
  p->set_bound(t.bound);
  p->set_clip_norm(t.clip_norm);
  p->set_equal_weights(t.equal_weights);
  p->set_noise_stddev(t.noise_stddev);
  p->set_count_noise_stddev(t.count_noise_stddev);
  p->set_report_unclipped(t.report_unclipped);
  p->set_extras_bound(t.extras_bound);
}

void to_proto(const msg::SecAggShare& share, pb::SecAggShare* p) {
  p->set_owner(share.owner);
  p->set_x(share.x);
  for (uint64_t v : share.values) p->add_values(v);
}

// Sets the envelope body; returns the state to append as frames, if any.
struct BodyEncoder {
  pb::Envelope* env;
  Frames* frames;

  void operator()(const msg::Register& m) const {
    auto* b = env->mutable_register_();
    for (int id : m.client_ids) b->add_client_ids(id);
    auto* c = b->mutable_capabilities();
    c->set_hostname(m.capabilities.hostname);
    c->set_pid(m.capabilities.pid);
    c->set_device(m.capabilities.device);
    c->set_threads(m.capabilities.threads);
    c->set_peer_endpoint(m.capabilities.peer_endpoint);
    b->set_instance_id(m.instance_id);
    for (const auto& d : m.data) to_proto(d, b->add_data());
    b->set_model_sha256(m.model_sha256);
    b->set_accepted_model_sha256(m.accepted_model_sha256);
    b->set_trusts_shipped_model(m.trusts_shipped_model);
  }
  void operator()(const msg::Welcome& m) const {
    auto* b = env->mutable_welcome();
    for (int id : m.client_ids) b->add_client_ids(id);
    to_proto(m.experiment, b->mutable_experiment());
    if (!m.model_archive.empty()) {
      b->set_model_archive_bytes(static_cast<int64_t>(m.model_archive.size()));
      frames->push_back(Frame::from_string(m.model_archive));
    }
  }
  void operator()(const msg::RoundTask& m) const {
    auto* b = env->mutable_round_task();
    b->set_round(m.round);
    for (int id : m.client_ids) b->add_client_ids(id);
    b->set_compression(m.compression);
    to_proto(m.config, b->mutable_config());
    b->set_algorithm(m.algorithm.name);
    for (const auto& [k, v] : m.algorithm.options) (*b->mutable_algorithm_options())[k] = v;
    b->set_delay_seconds(m.delay_seconds);
    b->set_task_id(m.task_id);
    // Anything but the default travels, so that a bad value is refused by the receiver, not dropped here.
    if (m.privacy.clip_norm != 0 || m.privacy.noise_stddev != 0 || m.privacy.report_unclipped) {
      auto* privacy = b->mutable_privacy();
      privacy->set_clip_norm(m.privacy.clip_norm);
      privacy->set_noise_stddev(m.privacy.noise_stddev);
      privacy->set_report_unclipped(m.privacy.report_unclipped);
    }
    if (!m.collective.empty()) to_proto(m.collective, b->mutable_collective());
    if (m.secure_aggregation.enabled()) to_proto(m.secure_aggregation, b->mutable_secure_aggregation());
    encode_state(m.state, b->mutable_state(), frames);
    encode_state(m.extras, b->mutable_extras(), frames);
  }
  void operator()(const msg::ClientUpdate& m) const {
    auto* b = env->mutable_client_update();
    b->set_round(m.round);
    b->set_client_id(m.client_id);
    b->set_num_samples(m.num_samples);
    b->set_train_loss(m.train_loss);
    b->set_train_seconds(m.train_seconds);
    b->set_total_seconds(m.total_seconds);
    b->set_steps(m.steps);
    b->set_compression(m.compression);
    b->set_task_id(m.task_id);
    for (const auto& [k, v] : m.metrics) (*b->mutable_metrics())[k] = v;
    encode_state(m.state, b->mutable_state(), frames);
    encode_state(m.extras, b->mutable_extras(), frames);
  }
  void operator()(const msg::EvaluateTask& m) const {
    auto* b = env->mutable_evaluate_task();
    b->set_round(m.round);
    for (int id : m.client_ids) b->add_client_ids(id);
    to_proto(m.config, b->mutable_config());
    b->set_task_id(m.task_id);
    encode_state(m.state, b->mutable_state(), frames);
  }
  void operator()(const msg::EvaluateResult& m) const {
    auto* b = env->mutable_evaluate_result();
    b->set_round(m.round);
    b->set_client_id(m.client_id);
    b->set_num_samples(m.num_samples);
    b->set_loss(m.loss);
    b->set_accuracy(m.accuracy);
    for (int64_t t : m.class_total) b->add_class_total(t);
    for (int64_t c : m.class_correct) b->add_class_correct(c);
    b->set_task_id(m.task_id);
  }
  void operator()(const msg::Error& m) const {
    auto* b = env->mutable_error();
    b->set_code(m.code);
    b->set_message(m.message);
    b->set_client_id(m.client_id);
    b->set_round(m.round);
    b->set_task_id(m.task_id);
  }
  void operator()(const msg::Shutdown& m) const { env->mutable_shutdown()->set_reason(m.reason); }
  void operator()(const msg::Heartbeat&) const { env->mutable_heartbeat(); }
  void operator()(const msg::UploadOffer& m) const {
    auto* b = env->mutable_upload_offer();
    b->set_task_id(m.task_id);
    b->set_client_id(m.client_id);
    b->set_bytes(m.bytes);
  }
  void operator()(const msg::UploadGrant& m) const {
    auto* b = env->mutable_upload_grant();
    b->set_task_id(m.task_id);
    b->set_client_id(m.client_id);
    b->set_send(m.send);
  }
  void operator()(const msg::SecAggStep& m) const {
    auto* b = env->mutable_secagg_step();
    b->set_round(m.round);
    b->set_task_id(m.task_id);
    b->set_client_id(m.client_id);
    b->set_stage(static_cast<uint32_t>(m.stage));
    for (const auto& k : m.keys) {
      auto* out = b->add_keys();
      out->set_id(k.id);
      out->set_cipher_public_key(k.cipher_public_key);
      out->set_mask_public_key(k.mask_public_key);
    }
    for (const auto& s : m.sealed) {
      auto* out = b->add_sealed();
      out->set_from(s.from);
      out->set_to(s.to);
      out->set_sealed(s.sealed);
    }
    for (int id : m.survivors) b->add_survivors(id);
    for (int id : m.dropped) b->add_dropped(id);
    for (const auto& share : m.self_mask_shares) to_proto(share, b->add_self_mask_shares());
    for (const auto& share : m.mask_key_shares) to_proto(share, b->add_mask_key_shares());
    auto* report = b->mutable_report();
    report->set_train_loss(m.report.train_loss);
    report->set_train_seconds(m.report.train_seconds);
    report->set_steps(m.report.steps);
    report->set_update_norm(m.report.update_norm);
    for (const auto& [k, v] : m.report.metrics) (*report->mutable_metrics())[k] = v;
    encode_state(m.masked, b->mutable_masked(), frames);
  }
};

// ---- decoding -------------------------------------------------------------------------------

// OK when the message has exactly the envelope and the tensor frames its headers list.
Status check_frame_count(const Frames& frames, std::initializer_list<const pb::StateHeader*> headers) {
  size_t listed = 0;
  for (const auto* h : headers) listed += static_cast<size_t>(h->tensors_size());
  if (frames.size() != 1 + listed) {
    return data_loss_error("message has " + std::to_string(frames.size() - 1) + " tensor frames, its headers list " +
                           std::to_string(listed));
  }
  return Status();
}

// Rebuilds a state from its header and frames [first, first + tensors); check_frame_count has
// checked that they exist. Each tensor aliases its frame (kept alive by the tensor's deleter) when
// the frame is aligned for the dtype; otherwise it is copied once.
StatusOr<ModelState> decode_state(const pb::StateHeader& header, const Frames& frames, size_t first) {
  const size_t n = static_cast<size_t>(header.tensors_size());
  FLOTILLA_CHECK(frames.size() >= first + n) << "decode_state: frames not counted";
  ModelState state;
  std::set<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    const auto& spec = header.tensors(static_cast<int>(i));
    if (spec.name().empty()) return invalid_argument_error("tensor " + std::to_string(i) + " has no name");
    if (!names.insert(spec.name()).second) return invalid_argument_error("duplicate tensor name '" + spec.name() + "'");
    ASSIGN_OR_RETURN(at::ScalarType dtype, from_wire(spec.dtype()));
    const int64_t element_size = static_cast<int64_t>(c10::elementSize(dtype));
    std::vector<int64_t> shape(spec.shape().begin(), spec.shape().end());
    // The limit bounds the non-zero dimensions' product, not only numel: torch computes strides
    // from them without overflow checks, and a 0 elsewhere (numel 0) must not let [0, 2^62, 2^62]
    // through with wrapped strides.
    int64_t extent = 1;
    bool empty = false;
    for (int64_t d : shape) {
      if (d < 0) return invalid_argument_error("tensor '" + spec.name() + "' has a negative dimension");
      if (d == 0) {
        empty = true;
        continue;
      }
      if (extent > kMaxTensorBytes / element_size / d)
        return invalid_argument_error("tensor '" + spec.name() + "' has a shape over the limit of " +
                                      std::to_string(kMaxTensorBytes) + " bytes");
      extent *= d;
    }
    const int64_t numel = empty ? 0 : extent;
    const Frame& frame = frames[first + i];
    const int64_t expected = numel * element_size;
    if (static_cast<int64_t>(frame.size()) != expected) {
      return data_loss_error("tensor '" + spec.name() + "' frame has " + std::to_string(frame.size()) +
                             " bytes, its dtype and shape need " + std::to_string(expected));
    }
    at::Tensor tensor;
    const auto options = at::TensorOptions().dtype(dtype);
    if (reinterpret_cast<uintptr_t>(frame.data()) % element_size == 0 && expected > 0) {
      auto owner = frame.owner();
      tensor = at::from_blob(
          const_cast<void*>(frame.data()), shape, [owner](void*) {}, options);
    } else {
      tensor = at::empty(shape, options);
      if (expected > 0) std::memcpy(tensor.data_ptr(), frame.data(), static_cast<size_t>(expected));
    }
    state.add(spec.name(), std::move(tensor));
  }
  return state;
}

// ---- secure aggregation (protocol 10) ---------------------------------------------------------

StatusOr<msg::SecureAggregationTask> from_proto(const pb::SecureAggregation& p) {
  msg::SecureAggregationTask t;
  if (p.participants_size() > kMaxSecAggParticipants)
    return invalid_argument_error("secure aggregation names " + std::to_string(p.participants_size()) +
                                  " participants; at most " + std::to_string(kMaxSecAggParticipants));
  t.participants.assign(p.participants().begin(), p.participants().end());
  for (size_t i = 1; i < t.participants.size(); ++i)
    if (t.participants[i] <= t.participants[i - 1])
      return invalid_argument_error("secure aggregation's participants are not ascending and distinct");
  const int64_t n = p.participants_size();
  if (p.threshold() < 2 || p.threshold() > static_cast<uint32_t>(n) || p.neighbours() > static_cast<uint32_t>(n))
    return invalid_argument_error("secure aggregation asks for threshold " + std::to_string(p.threshold()) + " and " +
                                  std::to_string(p.neighbours()) + " neighbours among " + std::to_string(n) +
                                  " participants; the threshold must be 2..participants");
  t.threshold = static_cast<int>(p.threshold());
  t.neighbours = static_cast<int>(p.neighbours());
  t.graph_seed = p.graph_seed();
  t.fraction_bits = p.fraction_bits();
  t.bound = p.bound();
  t.clip_norm = p.clip_norm();
  t.equal_weights = p.equal_weights();
  t.noise_stddev = p.noise_stddev();
  t.count_noise_stddev = p.count_noise_stddev();
  t.report_unclipped = p.report_unclipped();
  t.extras_bound = p.extras_bound();
  if (!std::isfinite(t.extras_bound) || t.extras_bound < 0)
    return invalid_argument_error("secure aggregation asks for an extras bound of " + std::to_string(t.extras_bound));
  if (t.fraction_bits < 0 || t.fraction_bits > 62 || !std::isfinite(t.bound) || t.bound <= 0 ||
      !std::isfinite(t.clip_norm) || t.clip_norm <= 0)
    return invalid_argument_error("secure aggregation asks for " + std::to_string(t.fraction_bits) +
                                  " fraction bits, bound " + std::to_string(t.bound) + ", clip norm " +
                                  std::to_string(t.clip_norm) + "; 0..62 bits and a positive finite bound and norm");
  if (!std::isfinite(t.noise_stddev) || t.noise_stddev < 0 || !std::isfinite(t.count_noise_stddev) ||
      t.count_noise_stddev < 0)
    return invalid_argument_error("secure aggregation asks for negative or non-finite noise");
  return t;
}

StatusOr<std::vector<msg::SecAggShare>> from_proto(const google::protobuf::RepeatedPtrField<pb::SecAggShare>& shares) {
  if (shares.size() > kMaxSecAggParticipants)
    return invalid_argument_error("secure aggregation step has too many shares");
  std::vector<msg::SecAggShare> out;
  out.reserve(static_cast<size_t>(shares.size()));
  for (const auto& p : shares) {
    if (p.values_size() > kMaxSecAggShareValues)
      return invalid_argument_error("secure aggregation share of client " + std::to_string(p.owner()) + " has " +
                                    std::to_string(p.values_size()) + " values; at most " +
                                    std::to_string(kMaxSecAggShareValues));
    out.push_back({p.owner(), p.x(), {p.values().begin(), p.values().end()}});
  }
  return out;
}

StatusOr<Message> decode_secagg_step(const pb::SecAggStep& b, const Frames& frames) {
  msg::SecAggStep m;
  m.round = b.round();
  m.task_id = b.task_id();
  m.client_id = b.client_id();
  if (b.stage() > 3)
    return invalid_argument_error("secure aggregation step of stage " + std::to_string(b.stage()) + "; 0..3 exist");
  m.stage = static_cast<int>(b.stage());
  if (b.keys_size() > kMaxSecAggParticipants || b.sealed_size() > kMaxSecAggParticipants ||
      b.survivors_size() > kMaxSecAggParticipants || b.dropped_size() > kMaxSecAggParticipants)
    return invalid_argument_error("secure aggregation step names more than " + std::to_string(kMaxSecAggParticipants) +
                                  " clients");
  for (const auto& k : b.keys()) {
    if (k.cipher_public_key().size() != 32 || k.mask_public_key().size() != 32)
      return invalid_argument_error("secure aggregation keys of client " + std::to_string(k.id()) +
                                    " are not 32-byte X25519 public keys");
    m.keys.push_back({k.id(), k.cipher_public_key(), k.mask_public_key()});
  }
  for (const auto& s : b.sealed()) {
    if (s.sealed().size() > kMaxSecAggSealedBytes)
      return invalid_argument_error("sealed shares from client " + std::to_string(s.from()) + " have " +
                                    std::to_string(s.sealed().size()) + " bytes; at most " +
                                    std::to_string(kMaxSecAggSealedBytes));
    m.sealed.push_back({s.from(), s.to(), s.sealed()});
  }
  m.survivors.assign(b.survivors().begin(), b.survivors().end());
  m.dropped.assign(b.dropped().begin(), b.dropped().end());
  ASSIGN_OR_RETURN(m.self_mask_shares, from_proto(b.self_mask_shares()));
  ASSIGN_OR_RETURN(m.mask_key_shares, from_proto(b.mask_key_shares()));
  const auto& r = b.report();
  m.report.train_loss = r.train_loss();
  m.report.train_seconds = r.train_seconds();
  m.report.steps = r.steps();
  m.report.update_norm = r.update_norm();
  for (const auto& [k, v] : r.metrics()) m.report.metrics[k] = v;
  RETURN_IF_ERROR(check_frame_count(frames, {&b.masked()}));
  ASSIGN_OR_RETURN(m.masked, decode_state(b.masked(), frames, 1));
  for (const auto& e : m.masked.entries())
    if (e.tensor.scalar_type() != at::kLong)
      return invalid_argument_error("masked input tensor '" + e.name + "' is not int64");
  return Message(std::move(m));
}

StatusOr<Message> decode_body(const pb::Envelope& env, const Frames& frames) {
  auto no_tensors = [&]() -> Status {
    if (frames.size() != 1)
      return data_loss_error(std::to_string(frames.size() - 1) + " unexpected frames after a message without tensors");
    return Status();
  };
  switch (env.body_case()) {
    case pb::Envelope::kRegister: {
      RETURN_IF_ERROR(no_tensors());
      const auto& b = env.register_();
      msg::Register m;
      m.client_ids.assign(b.client_ids().begin(), b.client_ids().end());
      m.capabilities = {b.capabilities().hostname(), b.capabilities().pid(), b.capabilities().device(),
                        b.capabilities().threads(), b.capabilities().peer_endpoint()};
      m.instance_id = b.instance_id();
      m.model_sha256 = b.model_sha256();
      m.accepted_model_sha256 = b.accepted_model_sha256();
      m.trusts_shipped_model = b.trusts_shipped_model();
      if (b.data_size() > b.client_ids_size())
        return invalid_argument_error("registration reports data of " + std::to_string(b.data_size()) +
                                      " clients for " + std::to_string(b.client_ids_size()) + " ids");
      std::set<int> reported;
      const std::set<int> ids(m.client_ids.begin(), m.client_ids.end());
      for (const auto& d : b.data()) {
        ASSIGN_OR_RETURN(msg::DataReport report, from_proto(d));
        if (!ids.count(report.client_id) || !reported.insert(report.client_id).second)
          return invalid_argument_error("registration reports data of client " + std::to_string(report.client_id) +
                                        ", which it does not register or reports twice");
        m.data.push_back(std::move(report));
      }
      if (!m.data.empty() && m.data.size() != ids.size())
        return invalid_argument_error("registration reports data of " + std::to_string(m.data.size()) + " of its " +
                                      std::to_string(ids.size()) + " clients; all or none");
      return Message(std::move(m));
    }
    case pb::Envelope::kWelcome: {
      msg::Welcome m;
      const auto& b = env.welcome();
      m.client_ids.assign(b.client_ids().begin(), b.client_ids().end());
      m.experiment = from_proto(b.experiment());
      const size_t archive_frames = b.model_archive_bytes() > 0 ? 1 : 0;
      if (frames.size() != 1 + archive_frames)
        return data_loss_error("welcome has " + std::to_string(frames.size() - 1) + " frames after the envelope, " +
                               std::to_string(archive_frames) + " expected");
      if (archive_frames) {
        if (static_cast<int64_t>(frames[1].size()) != b.model_archive_bytes())
          return data_loss_error("welcome's model archive frame has " + std::to_string(frames[1].size()) +
                                 " bytes, the envelope says " + std::to_string(b.model_archive_bytes()));
        m.model_archive.assign(static_cast<const char*>(frames[1].data()), frames[1].size());
      }
      return Message(std::move(m));
    }
    case pb::Envelope::kRoundTask: {
      const auto& b = env.round_task();
      msg::RoundTask m;
      m.round = b.round();
      if (b.client_ids().empty()) return invalid_argument_error("round task names no client");
      m.client_ids.assign(b.client_ids().begin(), b.client_ids().end());
      m.compression = b.compression().empty() ? "none" : b.compression();
      ASSIGN_OR_RETURN(m.config, from_proto(b.config()));
      // Unset on the wire is impossible in protocol 3 (the coordinator always names the half), but
      // reads as plain SGD like an empty augment does.
      m.algorithm.name = b.algorithm().empty() ? std::string(kPlainSgd) : b.algorithm();
      for (const auto& [k, v] : b.algorithm_options()) m.algorithm.options[k] = v;
      m.delay_seconds = b.delay_seconds();
      m.task_id = b.task_id();
      if (!std::isfinite(m.delay_seconds) || m.delay_seconds < 0 || m.delay_seconds > kMaxDelaySeconds)
        return invalid_argument_error("round task asks for a delay of " + std::to_string(m.delay_seconds) + " s; 0.." +
                                      std::to_string(static_cast<int>(kMaxDelaySeconds)) + " s are allowed");
      if (b.has_privacy()) {
        const auto& p = b.privacy();
        m.privacy = {p.clip_norm(), p.noise_stddev(), p.report_unclipped()};
        if (!std::isfinite(m.privacy.clip_norm) || m.privacy.clip_norm <= 0)
          return invalid_argument_error("round task asks to clip updates to norm " +
                                        std::to_string(m.privacy.clip_norm) + "; it must be > 0 and finite");
        if (!std::isfinite(m.privacy.noise_stddev) || m.privacy.noise_stddev < 0)
          return invalid_argument_error("round task asks for update noise of standard deviation " +
                                        std::to_string(m.privacy.noise_stddev) + "; it must be >= 0 and finite");
      }
      if (b.has_collective()) {
        ASSIGN_OR_RETURN(m.collective, from_proto(b.collective()));
      }
      if (b.has_secure_aggregation()) {
        ASSIGN_OR_RETURN(m.secure_aggregation, from_proto(b.secure_aggregation()));
      }
      RETURN_IF_ERROR(check_frame_count(frames, {&b.state(), &b.extras()}));
      ASSIGN_OR_RETURN(m.state, decode_state(b.state(), frames, 1));
      ASSIGN_OR_RETURN(m.extras, decode_state(b.extras(), frames, 1 + m.state.size()));
      return Message(std::move(m));
    }
    case pb::Envelope::kClientUpdate: {
      const auto& b = env.client_update();
      msg::ClientUpdate m;
      m.round = b.round();
      m.client_id = b.client_id();
      m.num_samples = b.num_samples();
      m.train_loss = b.train_loss();
      m.train_seconds = b.train_seconds();
      m.total_seconds = b.total_seconds();
      m.steps = b.steps();
      m.task_id = b.task_id();
      m.compression = b.compression().empty() ? "none" : b.compression();
      if (m.steps < 0) return invalid_argument_error("update reports " + std::to_string(m.steps) + " local steps");
      for (const auto& [k, v] : b.metrics()) m.metrics[k] = v;
      RETURN_IF_ERROR(check_frame_count(frames, {&b.state(), &b.extras()}));
      ASSIGN_OR_RETURN(m.state, decode_state(b.state(), frames, 1));
      ASSIGN_OR_RETURN(m.extras, decode_state(b.extras(), frames, 1 + m.state.size()));
      return Message(std::move(m));
    }
    case pb::Envelope::kEvaluateTask: {
      const auto& b = env.evaluate_task();
      msg::EvaluateTask m;
      m.round = b.round();
      if (b.client_ids().empty()) return invalid_argument_error("evaluate task names no client");
      m.client_ids.assign(b.client_ids().begin(), b.client_ids().end());
      ASSIGN_OR_RETURN(m.config, from_proto(b.config()));
      m.task_id = b.task_id();
      RETURN_IF_ERROR(check_frame_count(frames, {&b.state()}));
      ASSIGN_OR_RETURN(m.state, decode_state(b.state(), frames, 1));
      return Message(std::move(m));
    }
    case pb::Envelope::kEvaluateResult: {
      RETURN_IF_ERROR(no_tensors());
      const auto& b = env.evaluate_result();
      msg::EvaluateResult m{b.round(), b.client_id(), b.num_samples(), b.loss(), b.accuracy(), {}, {}, b.task_id()};
      m.class_total.assign(b.class_total().begin(), b.class_total().end());
      m.class_correct.assign(b.class_correct().begin(), b.class_correct().end());
      if (m.num_samples < 0 || !std::isfinite(m.loss) || !(m.accuracy >= 0 && m.accuracy <= 1))
        return invalid_argument_error("evaluation result of client " + std::to_string(m.client_id) + " reports " +
                                      std::to_string(m.num_samples) + " samples, loss " + std::to_string(m.loss) +
                                      ", accuracy " + std::to_string(m.accuracy));
      if (m.class_total.size() != m.class_correct.size() || static_cast<int64_t>(m.class_total.size()) > kMaxClasses)
        return invalid_argument_error("evaluation result of client " + std::to_string(m.client_id) +
                                      " has per-class lists of different lengths or over the class limit");
      for (size_t c = 0; c < m.class_total.size(); ++c)
        if (m.class_correct[c] < 0 || m.class_correct[c] > m.class_total[c] || m.class_total[c] > m.num_samples)
          return invalid_argument_error("evaluation result of client " + std::to_string(m.client_id) + ": class " +
                                        std::to_string(c) + " has " + std::to_string(m.class_correct[c]) +
                                        " right of " + std::to_string(m.class_total[c]));
      return Message(std::move(m));
    }
    case pb::Envelope::kError: {
      RETURN_IF_ERROR(no_tensors());
      const auto& b = env.error();
      return Message(msg::Error{b.code(), b.message(), b.client_id(), b.round(), b.task_id()});
    }
    case pb::Envelope::kShutdown:
      RETURN_IF_ERROR(no_tensors());
      return Message(msg::Shutdown{env.shutdown().reason()});
    case pb::Envelope::kHeartbeat:
      RETURN_IF_ERROR(no_tensors());
      return Message(msg::Heartbeat{});
    case pb::Envelope::kUploadOffer: {
      RETURN_IF_ERROR(no_tensors());
      const auto& b = env.upload_offer();
      if (b.bytes() < 0) return invalid_argument_error("upload offer of " + std::to_string(b.bytes()) + " bytes");
      return Message(msg::UploadOffer{b.task_id(), b.client_id(), b.bytes()});
    }
    case pb::Envelope::kUploadGrant: {
      RETURN_IF_ERROR(no_tensors());
      const auto& b = env.upload_grant();
      return Message(msg::UploadGrant{b.task_id(), b.client_id(), b.send()});
    }
    case pb::Envelope::kSecaggStep:
      return decode_secagg_step(env.secagg_step(), frames);
    case pb::Envelope::BODY_NOT_SET:
      break;
  }
  return invalid_argument_error("envelope has no known message body");
}

}  // namespace

const char* message_name(const Message& message) {
  static constexpr const char* kNames[] = {"register",      "welcome",         "round_task",   "client_update",
                                           "evaluate_task", "evaluate_result", "error",        "shutdown",
                                           "heartbeat",     "upload_offer",    "upload_grant", "secagg_step"};
  static_assert(std::size(kNames) == std::variant_size_v<Message>);
  return kNames[message.index()];
}

Frames encode(const Message& message) {
  pb::Envelope env;
  env.set_protocol_version(kProtocolVersion);
  Frames frames(1);
  std::visit(BodyEncoder{&env, &frames}, message);
  frames[0] = Frame::from_string(env.SerializeAsString());
  return frames;
}

StatusOr<Message> decode(const Frames& frames) {
  // Protobuf logs an ERROR of its own for each string field that is not UTF-8 before the parse
  // fails; the failure comes back as a Status, and the coordinator logs that at a bounded rate.
  // Left on, any peer could fill the log at line rate.
  [[maybe_unused]] static const bool quiet = (google::protobuf::SetLogHandler(nullptr), true);
  if (frames.empty()) return data_loss_error("empty message");
  pb::Envelope env;
  const Frame& head = frames[0];
  if (head.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !env.ParseFromArray(head.data(), static_cast<int>(head.size()))) {
    return data_loss_error("envelope frame (" + std::to_string(head.size()) + " bytes) is not a valid protobuf");
  }
  if (env.protocol_version() != kProtocolVersion) {
    return failed_precondition_error("peer speaks protocol version " + std::to_string(env.protocol_version()) +
                                     ", this build speaks " + std::to_string(kProtocolVersion));
  }
  try {
    return decode_body(env, frames);
  } catch (const std::exception& e) {  // c10::Error from torch on an unexpected input
    return internal_error(std::string("decoding failed: ") + e.what());
  }
}

}  // namespace flotilla
