#include "protocol/codec.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace flotilla {
namespace {

ModelState sample_state() {
  ModelState s;
  s.add("conv1.weight", at::randn({4, 1, 3, 3}));
  s.add("conv1.bias", at::randn({4}, at::kDouble));
  s.add("bn.num_batches_tracked", at::tensor(int64_t{7}));
  s.add("mask", at::tensor({1, 0, 1}, at::kByte).to(at::kBool));
  s.add("half", at::randn({5}).to(at::kHalf));
  s.add("empty", at::zeros({0, 3}));
  return s;
}

bool bit_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  auto ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

// Simulates the wire: every frame copied into fresh storage, as a socket would deliver it.
Frames through_wire(const Frames& frames) {
  Frames out;
  for (const auto& f : frames) out.push_back(Frame::from_string(std::string(f.view())));
  return out;
}

TEST(CodecTest, ClientUpdateRoundTripsBitExactly) {
  msg::ClientUpdate in;
  in.round = 3;
  in.client_id = 17;
  in.num_samples = 1234;
  in.train_loss = 0.25;
  in.train_seconds = 1.5;
  in.metrics["local_acc_after"] = 0.75;
  in.compression = "fp16";
  in.state = sample_state();
  const Frames frames = encode(in);
  ASSERT_EQ(frames.size(), 1 + in.state.size());
  for (size_t i = 0; i < in.state.size(); ++i) EXPECT_EQ(frames[1 + i].size(), in.state[i].tensor.nbytes());

  auto decoded = decode(through_wire(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto* out = std::get_if<msg::ClientUpdate>(&*decoded);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->round, 3);
  EXPECT_EQ(out->client_id, 17);
  EXPECT_EQ(out->num_samples, 1234);
  EXPECT_DOUBLE_EQ(out->train_loss, 0.25);
  EXPECT_DOUBLE_EQ(out->metrics.at("local_acc_after"), 0.75);
  EXPECT_EQ(out->compression, "fp16");
  ASSERT_EQ(out->state.size(), in.state.size());
  for (size_t i = 0; i < in.state.size(); ++i) {
    EXPECT_EQ(out->state[i].name, in.state[i].name);
    EXPECT_TRUE(bit_equal(out->state[i].tensor, in.state[i].tensor)) << in.state[i].name;
  }
}

TEST(CodecTest, EncodingDoesNotCopyContiguousTensors) {
  msg::RoundTask task;
  task.state.add("w", at::randn({1000}));
  const Frames frames = encode(task);
  EXPECT_EQ(frames[1].data(), task.state[0].tensor.data_ptr());
}

TEST(CodecTest, RoundTaskCarriesConfig) {
  msg::RoundTask task;
  task.round = 2;
  task.client_ids = {5, 7, 9};
  task.compression = "topk:error_feedback=1,ratio=0.01";
  task.config.epochs = 3;
  task.config.batch_size = 64;
  task.config.lr = 0.05;
  task.config.momentum = 0.9;
  task.config.weight_decay = 1e-4;
  task.config.seed = 42;
  task.config.prox_mu = 0.01;
  task.config.augment = "crop_flip";
  task.state.add("w", at::ones({2, 2}));
  auto decoded = decode(through_wire(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& out = std::get<msg::RoundTask>(*decoded);
  EXPECT_EQ(out.client_ids, (std::vector<int>{5, 7, 9}));  // one task for a process's clients
  EXPECT_EQ(out.compression, "topk:error_feedback=1,ratio=0.01");
  EXPECT_EQ(out.config.epochs, 3);
  EXPECT_EQ(out.config.batch_size, 64);
  EXPECT_DOUBLE_EQ(out.config.lr, 0.05);
  EXPECT_DOUBLE_EQ(out.config.weight_decay, 1e-4);
  EXPECT_EQ(out.config.seed, 42u);
  EXPECT_DOUBLE_EQ(out.config.prox_mu, 0.01);
  EXPECT_EQ(out.config.augment, "crop_flip");
}

// Protocol 9: how the client clips and noises its update (--dp).
TEST(CodecTest, RoundTaskCarriesUpdatePrivacy) {
  msg::RoundTask task;
  task.client_ids = {1};
  task.state.add("w", at::ones({2}));
  auto plain = decode(through_wire(encode(task)));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(std::get<msg::RoundTask>(*plain).privacy.enabled());
  task.privacy = {0.75, 0.25, true};
  auto decoded = decode(through_wire(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const msg::UpdatePrivacy& p = std::get<msg::RoundTask>(*decoded).privacy;
  EXPECT_DOUBLE_EQ(p.clip_norm, 0.75);
  EXPECT_DOUBLE_EQ(p.noise_stddev, 0.25);
  EXPECT_TRUE(p.report_unclipped);
  for (const msg::UpdatePrivacy& bad :
       {msg::UpdatePrivacy{std::nan(""), 0, false}, msg::UpdatePrivacy{1.0, -1.0, false},
        msg::UpdatePrivacy{1.0, INFINITY, false}}) {
    task.privacy = bad;
    auto refused = decode(through_wire(encode(task)));
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find("round task asks"), std::string::npos) << refused.status();
  }
}

// Protocol 10: a round task tells each client the round's secure aggregation; refused settings
// name the problem.
TEST(CodecTest, RoundTaskCarriesSecureAggregation) {
  msg::RoundTask task;
  task.client_ids = {1};
  task.state.add("w", at::ones({2}));
  msg::SecureAggregationTask& s = task.secure_aggregation;
  s = {{1, 4, 9}, 2, 2, 77, 40, 123.5, 1.5, true, 0.25, 0.5, true};
  auto decoded = decode(through_wire(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const msg::SecureAggregationTask& out = std::get<msg::RoundTask>(*decoded).secure_aggregation;
  EXPECT_EQ(out.participants, (std::vector<int>{1, 4, 9}));
  EXPECT_EQ(out.threshold, 2);
  EXPECT_EQ(out.neighbours, 2);
  EXPECT_EQ(out.graph_seed, 77u);
  EXPECT_EQ(out.fraction_bits, 40);
  EXPECT_DOUBLE_EQ(out.bound, 123.5);
  EXPECT_DOUBLE_EQ(out.clip_norm, 1.5);
  EXPECT_TRUE(out.equal_weights);
  EXPECT_DOUBLE_EQ(out.noise_stddev, 0.25);
  EXPECT_DOUBLE_EQ(out.count_noise_stddev, 0.5);
  EXPECT_TRUE(out.report_unclipped);
  const std::vector<std::pair<std::function<void(msg::SecureAggregationTask&)>, std::string>> bad = {
      {[](auto& t) {
         t.participants = {4, 1, 9};
       },
       "not ascending"},
      {[](auto& t) { t.threshold = 4; }, "threshold 4"},
      {[](auto& t) { t.fraction_bits = 63; }, "63 fraction bits"},
      {[](auto& t) { t.bound = std::nan(""); }, "bound"},
      {[](auto& t) { t.clip_norm = -1; }, "clip norm"},
      {[](auto& t) { t.noise_stddev = -1; }, "negative or non-finite noise"},
  };
  for (const auto& [mutate, expected] : bad) {
    msg::RoundTask broken = task;
    mutate(broken.secure_aggregation);
    auto refused = decode(through_wire(encode(broken)));
    ASSERT_FALSE(refused.ok()) << expected;
    EXPECT_NE(refused.status().message().find(expected), std::string::npos) << refused.status();
  }
}

TEST(CodecTest, SecureAggregationStepsRoundTrip) {
  msg::SecAggStep step;
  step.round = 3;
  step.task_id = 0xfeedULL;
  step.client_id = 5;
  step.stage = 2;
  step.keys = {{5, std::string(32, 'a'), std::string(32, 'b')}};
  step.sealed = {{5, 6, "sealed bytes"}};
  step.masked.add("fc.weight", at::arange(6, at::kLong));
  step.masked.add("secagg/tail", at::full({1}, int64_t{-1}, at::kLong));  // 2^64 - 1 as a word
  step.survivors = {5, 6, 7};
  step.dropped = {8};
  step.self_mask_shares = {{6, 3, {1, 2, 3, 4, 5}}};
  step.mask_key_shares = {{8, 3, {9, 8, 7, 6, 5}}};
  step.report.train_loss = 0.5;
  step.report.steps = 12;
  step.report.update_norm = 2.25;
  step.report.metrics["local_acc_after"] = 0.75;
  auto decoded = decode(through_wire(encode(step)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& out = std::get<msg::SecAggStep>(*decoded);
  EXPECT_EQ(out.round, 3);
  EXPECT_EQ(out.task_id, 0xfeedULL);
  EXPECT_EQ(out.client_id, 5);
  EXPECT_EQ(out.stage, 2);
  ASSERT_EQ(out.keys.size(), 1u);
  EXPECT_EQ(out.keys[0].mask_public_key, std::string(32, 'b'));
  ASSERT_EQ(out.sealed.size(), 1u);
  EXPECT_EQ(out.sealed[0].to, 6);
  EXPECT_EQ(out.sealed[0].sealed, "sealed bytes");
  ASSERT_EQ(out.masked.size(), 2u);
  EXPECT_TRUE(at::equal(out.masked[0].tensor, at::arange(6, at::kLong)));
  EXPECT_EQ(out.masked[1].tensor.item<int64_t>(), -1);
  EXPECT_EQ(out.survivors, (std::vector<int>{5, 6, 7}));
  EXPECT_EQ(out.dropped, (std::vector<int>{8}));
  ASSERT_EQ(out.self_mask_shares.size(), 1u);
  EXPECT_EQ(out.self_mask_shares[0].values, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(out.mask_key_shares[0].owner, 8);
  EXPECT_DOUBLE_EQ(out.report.update_norm, 2.25);
  EXPECT_EQ(out.report.steps, 12);
  EXPECT_DOUBLE_EQ(out.report.metrics.at("local_acc_after"), 0.75);
  EXPECT_STREQ(message_name(Message(out)), "secagg_step");
}

TEST(CodecTest, MalformedSecureAggregationStepsAreRefusedByName) {
  const std::vector<std::pair<std::function<void(msg::SecAggStep&)>, std::string>> bad = {
      {[](auto& s) { s.stage = 4; }, "stage 4"},
      {[](auto& s) {
         s.keys = {{1, "short", std::string(32, 'b')}};
       },
       "not 32-byte X25519 public keys"},
      {[](auto& s) {
         s.sealed = {{1, 2, std::string(kMaxSecAggSealedBytes + 1, 'x')}};
       },
       "sealed shares from client 1"},
      {[](auto& s) {
         s.self_mask_shares = {{2, 1, std::vector<uint64_t>(kMaxSecAggShareValues + 1, 1)}};
       },
       "share of client 2"},
      {[](auto& s) { s.masked.add("w", at::ones({2})); }, "is not int64"},
  };
  for (const auto& [mutate, expected] : bad) {
    msg::SecAggStep step;
    step.client_id = 1;
    mutate(step);
    auto refused = decode(through_wire(encode(step)));
    ASSERT_FALSE(refused.ok()) << expected;
    EXPECT_NE(refused.status().message().find(expected), std::string::npos) << refused.status();
  }
}

TEST(CodecTest, ARoundTaskForNoClientIsRejected) {
  msg::RoundTask task;
  task.state.add("w", at::ones({2}));
  auto decoded = decode(through_wire(encode(task)));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("names no client"), std::string::npos) << decoded.status();
  task.client_ids = {3};
  auto one = decode(through_wire(encode(task)));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(std::get<msg::RoundTask>(*one).compression, "none");
}

TEST(CodecTest, AugmentDefaultsToNoneAndUnknownValuesAreRejected) {
  msg::RoundTask task;
  task.client_ids = {0};
  task.state.add("w", at::ones({2}));
  auto plain = decode(through_wire(encode(task)));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(std::get<msg::RoundTask>(*plain).config.augment, "none");

  // An empty field is what a peer that predates augmentation sends: it trained without.
  task.config.augment = "";
  auto old_peer = decode(through_wire(encode(task)));
  ASSERT_TRUE(old_peer.ok()) << old_peer.status();
  EXPECT_EQ(std::get<msg::RoundTask>(*old_peer).config.augment, "none");

  task.config.augment = "cutout";
  auto bad = decode(through_wire(encode(task)));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("cutout"), std::string::npos) << bad.status();
}

TEST(CodecTest, ControlMessagesRoundTrip) {
  msg::Welcome w;
  w.client_ids = {0, 1, 2};
  w.experiment.dataset = "mnist";
  w.experiment.model = "mnist_cnn";
  w.experiment.num_clients = 10;
  w.experiment.partitioner = "dirichlet";
  w.experiment.partitioner_options = {{"alpha", "0.5"}};
  w.experiment.seed = 9;
  auto d = decode(through_wire(encode(w)));
  ASSERT_TRUE(d.ok()) << d.status();
  const auto& out = std::get<msg::Welcome>(*d);
  EXPECT_EQ(out.client_ids, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(out.experiment.partitioner_options.at("alpha"), "0.5");
  EXPECT_EQ(out.experiment.num_clients, 10);

  msg::Register r;
  r.client_ids = {4, 5};
  r.capabilities.hostname = "h";
  r.capabilities.device = "cpu";
  r.instance_id = 0xfedcba9876543210ULL;
  auto dr = decode(encode(r));
  ASSERT_TRUE(dr.ok());
  EXPECT_EQ(std::get<msg::Register>(*dr).client_ids, (std::vector<int>{4, 5}));
  EXPECT_EQ(std::get<msg::Register>(*dr).instance_id, 0xfedcba9876543210ULL);

  auto ds = decode(encode(msg::Shutdown{"done"}));
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(std::get<msg::Shutdown>(*ds).reason, "done");
  EXPECT_STREQ(message_name(*ds), "shutdown");
}

TEST(CodecTest, UploadOfferAndGrantRoundTrip) {
  auto offer = decode(encode(msg::UploadOffer{0x8000000000000005ULL, 3, 6653000}));
  ASSERT_TRUE(offer.ok()) << offer.status();
  const auto& o = std::get<msg::UploadOffer>(*offer);
  EXPECT_EQ(o.task_id, 0x8000000000000005ULL);
  EXPECT_EQ(o.client_id, 3);
  EXPECT_EQ(o.bytes, 6653000);
  EXPECT_STREQ(message_name(*offer), "upload_offer");
  for (bool send : {true, false}) {
    auto grant = decode(encode(msg::UploadGrant{42, 7, send}));
    ASSERT_TRUE(grant.ok()) << grant.status();
    EXPECT_EQ(std::get<msg::UploadGrant>(*grant).task_id, 42u);
    EXPECT_EQ(std::get<msg::UploadGrant>(*grant).client_id, 7);
    EXPECT_EQ(std::get<msg::UploadGrant>(*grant).send, send);
    EXPECT_STREQ(message_name(*grant), "upload_grant");
  }
  const auto negative = decode(encode(msg::UploadOffer{1, 0, -5}));
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("-5 bytes"), std::string::npos) << negative.status();
  Frames with_tensor = encode(msg::UploadGrant{1, 0, true});
  with_tensor.push_back(Frame::from_string("junk"));
  EXPECT_FALSE(decode(with_tensor).ok());
}

TEST(CodecTest, RejectsGarbageEnvelope) {
  Frames frames{Frame::from_string("\xff\xff\xff\xff not a protobuf")};
  auto d = decode(frames);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(d.status().message().find("envelope"), std::string::npos);
}

TEST(CodecTest, RejectsEmptyMessageAndMissingBody) {
  EXPECT_FALSE(decode(Frames{}).ok());
  // An envelope with only a version and no body.
  Frames frames = encode(msg::Heartbeat{});
  std::string bytes(frames[0].view());
  // Heartbeat encodes as version + empty field 18: strip the body by keeping the version only.
  auto d = decode(Frames{Frame::from_string(bytes.substr(0, 2))});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("no known message body"), std::string::npos);
}

TEST(CodecTest, RejectsMissingTensorFrame) {
  msg::ClientUpdate u;
  u.state = sample_state();
  Frames frames = through_wire(encode(u));
  frames.pop_back();
  auto d = decode(frames);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(d.status().message().find("tensor frames"), std::string::npos);
}

TEST(CodecTest, RejectsFrameSizeThatDoesNotMatchShape) {
  msg::ClientUpdate u;
  u.state.add("fc.weight", at::randn({3, 4}));
  Frames frames = through_wire(encode(u));
  frames[1] = Frame::from_string(std::string(frames[1].view()).substr(0, 40));
  auto d = decode(frames);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("fc.weight"), std::string::npos);
  EXPECT_NE(d.status().message().find("48"), std::string::npos);
}

TEST(CodecTest, RejectsExtraFramesOnControlMessage) {
  Frames frames = encode(msg::Shutdown{"x"});
  frames.push_back(Frame::from_string("junk"));
  EXPECT_FALSE(decode(frames).ok());
}

TEST(CodecTest, RejectsOtherProtocolVersion) {
  Frames frames = encode(msg::Heartbeat{});
  std::string bytes(frames[0].view());
  ASSERT_EQ(bytes[0], 0x08);  // field 1, varint
  bytes[1] = 0x0c;            // version 12
  auto d = decode(Frames{Frame::from_string(bytes)});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("protocol version 12"), std::string::npos);
}

// Older peers (version 1 before Register.instance_id, version 2 before client halves and extras,
// version 3 before one task per process and compression, version 4 before asynchronous and
// decentralised training, version 5 before task ids, version 6 before upload offers, version 7
// before data reports, shipped models and federated evaluation, version 8 before differential
// privacy, version 9 before secure aggregation, version 10 before a public data set's clients
// took the run's normalisation) are refused by number, not misread.
TEST(CodecTest, RejectsOlderProtocolVersions) {
  for (char old_version : {'\x01', '\x02', '\x03', '\x04', '\x05', '\x06', '\x07', '\x08', '\x09', '\x0a'}) {
    Frames frames = encode(msg::Heartbeat{});
    std::string bytes(frames[0].view());
    bytes[1] = old_version;
    auto d = decode(Frames{Frame::from_string(bytes)});
    ASSERT_FALSE(d.ok());
    const std::string expected =
        "protocol version " + std::to_string(static_cast<int>(old_version)) + ", this build speaks 11";
    EXPECT_NE(d.status().message().find(expected), std::string::npos) << d.status().message();
  }
}

// Protocol 5: a decentralised round names the group, a slowed client its delay, Hogwild its
// threads, and a process where its peers reach it.
msg::RoundTask gossip_task() {
  msg::RoundTask task;
  task.round = 2;
  task.client_ids = {1};
  task.config.local_threads = 4;
  task.delay_seconds = 0.25;
  task.collective.topology = "gossip";
  task.collective.rank = 1;
  task.collective.report_model = true;
  task.collective.timeout_seconds = 30;
  task.collective.peers = {{0, 0, "tcp://10.0.0.1:4100", "", 0.25},
                           {1, 1, "tcp://10.0.0.2:4100", "", 0.5},
                           {2, 2, "tcp://10.0.0.3:4100", "", 0.25}};
  return task;
}

StatusOr<msg::RoundTask> round_trip(const msg::RoundTask& task) {
  ASSIGN_OR_RETURN(Message m, decode(encode(task)));
  return std::get<msg::RoundTask>(std::move(m));
}

// Protocol 6: a task's id travels to the client and back in its update or error, whole (all 64 bits).
TEST(CodecTest, TaskIdTravelsBothWays) {
  constexpr uint64_t kId = 0xfedcba9876543210ULL;
  msg::RoundTask task = gossip_task();
  task.task_id = kId;
  auto back = round_trip(task);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->task_id, kId);

  msg::ClientUpdate update;
  update.round = 2;
  update.client_id = 1;
  update.task_id = kId;
  auto decoded = decode(encode(update));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<msg::ClientUpdate>(*decoded).task_id, kId);

  auto error = decode(encode(msg::Error{3, "bad", 1, 2, kId}));
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(std::get<msg::Error>(*error).task_id, kId);

  msg::RoundTask unnamed;  // what a default-built task carries: no id
  unnamed.client_ids = {0};
  auto plain = round_trip(unnamed);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->task_id, 0u);
}

TEST(CodecTest, RoundTaskCarriesCollectiveDelayAndLocalThreads) {
  auto back = round_trip(gossip_task());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->config.local_threads, 4);
  EXPECT_EQ(back->delay_seconds, 0.25);
  const msg::CollectiveTask& c = back->collective;
  EXPECT_EQ(c.topology, "gossip");
  EXPECT_EQ(c.sync, "model");
  EXPECT_EQ(c.rank, 1);
  EXPECT_TRUE(c.report_model);
  EXPECT_EQ(c.timeout_seconds, 30);
  ASSERT_EQ(c.peers.size(), 3u);
  EXPECT_EQ(c.peers[2].rank, 2);
  EXPECT_EQ(c.peers[2].client_id, 2);
  EXPECT_EQ(c.peers[2].endpoint, "tcp://10.0.0.3:4100");
  EXPECT_EQ(c.peers[2].weight, 0.25);
  EXPECT_EQ(c.peers[1].weight, 0.5);

  msg::RoundTask star;  // no collective: a star round, one local thread
  star.client_ids = {0};
  auto plain = round_trip(star);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->collective.empty());
  EXPECT_EQ(plain->config.local_threads, 1);
  EXPECT_EQ(plain->delay_seconds, 0);

  msg::Register reg;
  reg.client_ids = {3};
  reg.capabilities = {"host", 7, "cpu", 2, "tcp://10.0.0.9:4100"};
  auto decoded = decode(encode(reg));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<msg::Register>(*decoded).capabilities.peer_endpoint, "tcp://10.0.0.9:4100");
}

TEST(CodecTest, RejectsCollectivesAndDelaysAClientCannotActOn) {
  struct Case {
    const char* what;
    void (*spoil)(msg::RoundTask&);
    const char* message;
  };
  const Case cases[] = {
      {"unknown topology", [](msg::RoundTask& t) { t.collective.topology = "mesh"; }, "unknown collective topology"},
      {"gradient gossip", [](msg::RoundTask& t) { t.collective.sync = "gradient"; }, "not possible with gossip"},
      {"weights off", [](msg::RoundTask& t) { t.collective.peers[1].weight = 0.4; }, "sum to"},
      {"negative weight", [](msg::RoundTask& t) { t.collective.peers[0].weight = -0.25; }, "mixing weight"},
      {"receiver missing", [](msg::RoundTask& t) { t.collective.rank = 3; }, "including the receiver"},
      {"repeated rank", [](msg::RoundTask& t) { t.collective.peers[2].rank = 0; }, "out of range or repeated"},
      {"no endpoint", [](msg::RoundTask& t) { t.collective.peers[0].endpoint.clear(); }, "has no endpoint"},
      {"zero timeout", [](msg::RoundTask& t) { t.collective.timeout_seconds = 0; }, "collective timeout"},
      {"negative delay", [](msg::RoundTask& t) { t.delay_seconds = -1; }, "delay of"},
      {"endless delay", [](msg::RoundTask& t) { t.delay_seconds = 1e9; }, "delay of"},
      {"no threads", [](msg::RoundTask& t) { t.config.local_threads = -2; }, "local threads"},
      {"ring gap",
       [](msg::RoundTask& t) {
         t.collective.topology = "ring-allreduce";
         t.collective.peers = {{0, 0, "a", "", 0}, {2, 2, "b", "", 0}};
         t.collective.rank = 0;
       },
       "ranks 0..N-1"},
  };
  for (const Case& c : cases) {
    msg::RoundTask task = gossip_task();
    c.spoil(task);
    auto back = round_trip(task);
    ASSERT_FALSE(back.ok()) << c.what;
    EXPECT_EQ(back.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(back.status().message().find(c.message), std::string::npos) << c.what << ": " << back.status();
  }
}

TEST(CodecTest, RoundTaskCarriesTheClientHalfAndItsExtrasAfterTheModel) {
  msg::RoundTask task;
  task.round = 4;
  task.client_ids = {1};
  task.algorithm = {"scaffold", {{"option", "1.5"}}};
  task.state = sample_state();
  task.extras.add("c/conv1.weight", at::randn({4, 1, 3, 3}));
  task.extras.add("c/conv1.bias", at::randn({4}, at::kDouble));
  const Frames frames = encode(task);
  ASSERT_EQ(frames.size(), 1 + task.state.size() + task.extras.size());
  // The extras' frames follow the model's, in order.
  EXPECT_EQ(frames[1 + task.state.size()].data(), task.extras[0].tensor.data_ptr());
  auto decoded = decode(through_wire(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& out = std::get<msg::RoundTask>(*decoded);
  EXPECT_EQ(out.algorithm, task.algorithm);
  ASSERT_EQ(out.state.size(), task.state.size());
  ASSERT_EQ(out.extras.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out.extras[i].name, task.extras[i].name);
    EXPECT_TRUE(bit_equal(out.extras[i].tensor, task.extras[i].tensor));
  }
  for (size_t i = 0; i < task.state.size(); ++i) EXPECT_TRUE(bit_equal(out.state[i].tensor, task.state[i].tensor));
}

TEST(CodecTest, PlainTaskNamesPlainSgd) {
  msg::RoundTask task;
  task.client_ids = {0};
  task.state.add("w", at::ones({2}));
  auto decoded = decode(through_wire(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(std::get<msg::RoundTask>(*decoded).algorithm, ClientHalf{});
  EXPECT_TRUE(std::get<msg::RoundTask>(*decoded).extras.empty());
}

TEST(CodecTest, ClientUpdateCarriesStepsAndExtras) {
  msg::ClientUpdate in;
  in.client_id = 2;
  in.steps = 37;
  in.state.add("w", at::randn({3}));
  in.extras.add("fednova/a", at::scalar_tensor(12.5, at::kDouble));
  in.extras.add("delta_c/w", at::randn({3}));
  auto decoded = decode(through_wire(encode(in)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& out = std::get<msg::ClientUpdate>(*decoded);
  EXPECT_EQ(out.steps, 37);
  ASSERT_EQ(out.extras.size(), 2u);
  EXPECT_EQ(out.extras[0].name, "fednova/a");
  EXPECT_EQ(out.extras[0].tensor.dim(), 0);
  EXPECT_TRUE(bit_equal(out.extras[1].tensor, in.extras[1].tensor));
  EXPECT_EQ(out.state.size(), 1u);
}

// A frame missing or left over anywhere (model or extras) is refused: the counts must add up.
TEST(CodecTest, RejectsExtrasFramesThatDoNotAddUp) {
  msg::ClientUpdate in;
  in.state.add("w", at::randn({3}));
  in.extras.add("e", at::randn({2}));
  Frames frames = through_wire(encode(in));
  Frames short_one(frames.begin(), frames.end() - 1);
  auto d = decode(short_one);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("1 tensor frames, its headers list 2"), std::string::npos)
      << d.status().message();
  frames.push_back(Frame::from_string("xx"));
  EXPECT_FALSE(decode(frames).ok());
  // The extras' frame sized for the model's tensor is caught by the shape check.
  Frames swapped = through_wire(encode(in));
  std::swap(swapped[1], swapped[2]);
  EXPECT_FALSE(decode(swapped).ok());
}

TEST(CodecTest, RejectsNegativeStepCounts) {
  msg::ClientUpdate in;
  in.steps = -3;
  in.state.add("w", at::randn({1}));
  auto d = decode(through_wire(encode(in)));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("-3 local steps"), std::string::npos) << d.status().message();
}

// A zero dimension made numel 0, so the size limit never saw the others: [0, 2^62, 2^62] decoded
// into a tensor whose strides had wrapped (torch does not check). The envelope is hand-made: a
// RoundTask for client 0 whose one float tensor has that shape, then an empty tensor frame.
TEST(CodecTest, RejectsHugeDimensionsBesideAZero) {
  const std::string big = "\x80\x80\x80\x80\x80\x80\x80\x80\x40";  // varint 2^62
  const std::string shape = std::string(1, '\0') + big + big;
  const std::string spec = std::string("\x0a\x01w\x10\x01\x1a", 6) + static_cast<char>(shape.size()) + shape;
  const std::string header = "\x0a" + std::string(1, static_cast<char>(spec.size())) + spec;
  const std::string client_ids = std::string("\x42\x01\x00", 3);  // field 8, packed: [0]
  const std::string task = "\x22" + std::string(1, static_cast<char>(header.size())) + header + client_ids;
  const std::string envelope = "\x08" + std::string(1, static_cast<char>(kProtocolVersion)) + "\x62" +
                               std::string(1, static_cast<char>(task.size())) + task;
  auto d = decode(Frames{Frame::from_string(envelope), Frame::from_string("")});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("tensor 'w' has a shape over the limit of 4611686018427387904 bytes"),
            std::string::npos)
      << d.status();
  // Zero elements with ordinary dimensions still decode.
  msg::ClientUpdate u;
  u.state.add("e", at::zeros({0, 1000, 1000}));
  EXPECT_TRUE(decode(through_wire(encode(u))).ok());
}

TEST(CodecTest, DecodedTensorsSurviveTheirFrames) {
  msg::ClientUpdate u;
  u.state.add("w", at::arange(16, at::kFloat));
  ModelState kept;
  {
    auto d = decode(through_wire(encode(u)));
    ASSERT_TRUE(d.ok());
    kept = std::get<msg::ClientUpdate>(*d).state;
  }  // frames gone; the tensor holds its storage
  EXPECT_TRUE(bit_equal(kept[0].tensor, at::arange(16, at::kFloat)));
}

TEST(CodecTest, FuzzedTruncationsNeverCrash) {
  msg::ClientUpdate u;
  u.state = sample_state();
  const Frames frames = through_wire(encode(u));
  const std::string head(frames[0].view());
  for (size_t cut = 0; cut < head.size(); ++cut) {
    Frames broken = frames;
    broken[0] = Frame::from_string(head.substr(0, cut));
    auto d = decode(broken);  // must return, OK or not
    if (d.ok()) {
      EXPECT_TRUE(std::holds_alternative<msg::ClientUpdate>(*d));
    }
  }
  for (size_t i = 0; i < head.size(); ++i) {
    std::string flipped = head;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    Frames broken = frames;
    broken[0] = Frame::from_string(flipped);
    (void)decode(broken);
  }
}

// ---- sizes over 2 GiB ------------------------------------------------------------------------

std::string varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out += static_cast<char>((v & 0x7f) | 0x80);
  return out + static_cast<char>(v);
}

// A length-delimited protobuf field.
std::string field(int number, const std::string& bytes) {
  return varint(static_cast<uint64_t>(number) << 3 | 2) + varint(bytes.size()) + bytes;
}

// The envelope of a RoundTask whose state is one tensor of `dtype` (a pb DType number) and
// `shape`, made by hand so that no tensor of that size need exist.
std::string task_envelope(const std::string& name, int dtype, std::initializer_list<uint64_t> shape) {
  std::string dims;
  for (uint64_t d : shape) dims += varint(d);
  const std::string spec = field(1, name) + "\x10" + varint(static_cast<uint64_t>(dtype)) + field(3, dims);
  // RoundTask: state (field 4) and, since protocol 4, the clients it is for (field 8, packed: [0]).
  return "\x08" + varint(kProtocolVersion) + field(12, field(4, field(1, spec)) + field(8, varint(0)));
}

// Byte counts of tensors over 2^31 and 2^32 bytes are 64-bit all the way: a header describing one
// decodes up to the frame-size check, whose message shows the exact count. Allocates nothing big.
TEST(CodecTest, TensorsOver2GiBAreSizedIn64Bits) {
  struct Case {
    int dtype;  // pb DType: FLOAT32 = 1, INT8 = 8, FLOAT64 = 2
    std::initializer_list<uint64_t> shape;
    const char* bytes;
  };
  const Case cases[] = {
      {1, {(uint64_t{1} << 29) + 1}, "2147483652"},  // 2^31 + 4: over int32
      {8, {uint64_t{1} << 31, 3}, "6442450944"},     // over uint32
      {2, {40000, 40000}, "12800000000"},            // 12.8 GB
  };
  for (const auto& c : cases) {
    const std::string envelope = task_envelope("w", c.dtype, c.shape);
    auto d = decode(Frames{Frame::from_string(envelope), Frame::from_string("abcd")});
    ASSERT_FALSE(d.ok()) << c.bytes;
    EXPECT_EQ(d.status().code(), StatusCode::kDataLoss) << d.status();
    EXPECT_NE(d.status().message().find("frame has 4 bytes, its dtype and shape need " + std::string(c.bytes)),
              std::string::npos)
        << d.status();
  }
  // The frame-size sum is 64-bit too (frames of 3 GiB, none allocated).
  static const char dummy = 0;
  const size_t three_gib = size_t{3} << 30;
  const Frames big{Frame::from_owner(nullptr, &dummy, three_gib), Frame::from_owner(nullptr, &dummy, three_gib)};
  EXPECT_EQ(frames_byte_size(big), size_t{6} << 30);
}

bool large_tests() {
  const char* v = std::getenv("FLOTILLA_LARGE_TESTS");
  return v != nullptr && std::string(v) == "1";
}

// A tensor of 2 GiB + 64 bytes goes out and comes back without a copy: its frame is the tensor's
// memory, and the decoded tensor is the frame's. Needs 2.2 GB: FLOTILLA_LARGE_TESTS=1 only.
TEST(CodecTest, TensorOver2GiBRoundTripsWithoutCopies) {
  if (!large_tests()) GTEST_SKIP() << "set FLOTILLA_LARGE_TESTS=1 (needs 2.2 GB of memory)";
  const int64_t n = (int64_t{1} << 29) + 16;
  msg::ClientUpdate u;
  u.num_samples = 1;
  at::Tensor w = at::empty({n}, at::kFloat);
  w.fill_(0.5f);
  w[0] = 1.0f;
  w[n - 1] = -2.0f;
  u.state.add("big", w);
  u.state.add("small", at::arange(3, at::kFloat));
  const Frames frames = encode(u);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[1].size(), (size_t{1} << 31) + 64);
  EXPECT_EQ(frames[1].data(), w.data_ptr());

  auto d = decode(frames);
  ASSERT_TRUE(d.ok()) << d.status();
  const auto& back = std::get<msg::ClientUpdate>(*d).state;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].tensor.numel(), n);
  EXPECT_EQ(back[0].tensor.data_ptr(), frames[1].data());
  EXPECT_EQ(back[0].tensor[0].item<float>(), 1.0f);
  EXPECT_EQ(back[0].tensor[n / 2].item<float>(), 0.5f);
  EXPECT_EQ(back[0].tensor[n - 1].item<float>(), -2.0f);
  EXPECT_TRUE(at::equal(back[1].tensor, at::arange(3, at::kFloat)));
}

}  // namespace
}  // namespace flotilla

namespace flotilla {
namespace {

msg::DataReport sample_report(int client_id) {
  msg::DataReport d;
  d.client_id = client_id;
  d.train_samples = 6;
  d.test_samples = 2;
  d.sample_shape = {3, 2, 2};
  d.dtype = "uint8";
  d.num_classes = 3;
  d.label_counts = {1, 2, 3};
  d.input_sum = {1.5, 2.5, 3.5};
  d.input_sum_sq = {1.0, 2.0, 3.0};
  d.input_count = 24;
  return d;
}

msg::Register register_with_data() {
  msg::Register in;
  in.client_ids = {4, 5};
  in.capabilities = {"site-a", 7, "cpu", 2, ""};
  in.data = {sample_report(4), sample_report(5)};
  in.model_sha256 = std::string(64, 'a');
  in.accepted_model_sha256 = std::string(64, 'b');
  in.trusts_shipped_model = true;
  return in;
}

TEST(CodecTest, RegistrationWithOwnDataRoundTrips) {
  const msg::Register in = register_with_data();
  auto decoded = decode(through_wire(encode(in)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& out = std::get<msg::Register>(*decoded);
  ASSERT_EQ(out.data.size(), 2u);
  const msg::DataReport& d = out.data[1];
  EXPECT_EQ(d.client_id, 5);
  EXPECT_EQ(d.train_samples, 6);
  EXPECT_EQ(d.test_samples, 2);
  EXPECT_EQ(d.sample_shape, (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(d.dtype, "uint8");
  EXPECT_EQ(d.num_classes, 3);
  EXPECT_EQ(d.label_counts, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(d.input_sum, (std::vector<double>{1.5, 2.5, 3.5}));
  EXPECT_EQ(d.input_sum_sq, (std::vector<double>{1.0, 2.0, 3.0}));
  EXPECT_EQ(d.input_count, 24);
  EXPECT_EQ(out.model_sha256, in.model_sha256);
  EXPECT_EQ(out.accepted_model_sha256, in.accepted_model_sha256);
  EXPECT_TRUE(out.trusts_shipped_model);
}

TEST(CodecTest, ADataReportThatDoesNotAddUpIsRefusedByName) {
  struct Case {
    const char* why;
    void (*spoil)(msg::Register&);
    const char* message;
  };
  const Case cases[] = {
      {"counts",
       [](msg::Register& r) {
         r.data[0].label_counts = {1, 1, 1};
       },
       "label counts add up to 3, not its 6"},
      {"classes", [](msg::Register& r) { r.data[0].num_classes = 1; }, "1 classes"},
      {"shape",
       [](msg::Register& r) {
         r.data[0].sample_shape = {3, 0, 2};
       },
       "a sample dimension of 0"},
      {"dtype", [](msg::Register& r) { r.data[0].dtype = "int16"; }, "dtype 'int16'"},
      {"sums", [](msg::Register& r) { r.data[0].input_sum = {1.0}; }, "input sums for 1 channels"},
      {"nan", [](msg::Register& r) { r.data[0].input_sum[1] = std::nan(""); }, "channel 1 are not finite"},
      {"stranger", [](msg::Register& r) { r.data[1].client_id = 9; }, "client 9, which it does not register"},
      {"some", [](msg::Register& r) { r.data.pop_back(); }, "all or none"},
      {"samples", [](msg::Register& r) { r.data[0].train_samples = 0; }, "0 training"},
  };
  for (const Case& c : cases) {
    msg::Register reg = register_with_data();
    c.spoil(reg);
    auto decoded = decode(through_wire(encode(reg)));
    ASSERT_FALSE(decoded.ok()) << c.why;
    EXPECT_NE(decoded.status().message().find(c.message), std::string::npos) << c.why << ": " << decoded.status();
  }
}

TEST(CodecTest, AWelcomeCarriesTheModelArchiveInAFrameOfItsOwn) {
  msg::Welcome in;
  in.client_ids = {0};
  in.experiment.dataset = "local";
  in.experiment.model = "torchscript:" + std::string(64, 'c');
  in.experiment.sample_shape = {1, 28, 28};
  in.experiment.num_classes = 10;
  in.model_archive = std::string("PK\x03\x04", 4) + std::string(1000, '\0') + "end";
  const Frames frames = encode(in);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].size(), in.model_archive.size());
  auto decoded = decode(through_wire(frames));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& out = std::get<msg::Welcome>(*decoded);
  EXPECT_EQ(out.model_archive, in.model_archive);
  EXPECT_EQ(out.experiment.sample_shape, in.experiment.sample_shape);
  EXPECT_EQ(out.experiment.num_classes, 10);

  Frames cut = through_wire(frames);
  cut[1] = Frame::from_string(std::string(frames[1].view().substr(0, 10)));
  auto torn = decode(cut);
  ASSERT_FALSE(torn.ok());
  EXPECT_NE(torn.status().message().find("archive frame has 10 bytes"), std::string::npos) << torn.status();
  cut.pop_back();
  EXPECT_FALSE(decode(cut).ok());
}

TEST(CodecTest, EvaluationTasksAndResultsRoundTrip) {
  msg::EvaluateTask task;
  task.round = 4;
  task.client_ids = {2, 7};
  task.config.input_mean = {0.5, 0.25};
  task.config.input_std = {0.2, 0.1};
  task.task_id = 0x8000000000000009ULL;
  task.state = sample_state();
  auto decoded = decode(through_wire(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const auto& t = std::get<msg::EvaluateTask>(*decoded);
  EXPECT_EQ(t.client_ids, task.client_ids);
  EXPECT_EQ(t.config.input_mean, task.config.input_mean);
  EXPECT_EQ(t.config.input_std, task.config.input_std);
  EXPECT_EQ(t.task_id, task.task_id);
  EXPECT_EQ(t.state.size(), task.state.size());

  const msg::EvaluateResult result{4, 7, 10, 0.5, 0.7, {4, 6}, {3, 4}, task.task_id};
  auto back = decode(through_wire(encode(result)));
  ASSERT_TRUE(back.ok()) << back.status();
  const auto& r = std::get<msg::EvaluateResult>(*back);
  EXPECT_EQ(r.class_total, result.class_total);
  EXPECT_EQ(r.class_correct, result.class_correct);
  EXPECT_EQ(r.task_id, result.task_id);

  const msg::EvaluateResult impossible{4, 7, 10, 0.5, 0.7, {4, 6}, {5, 4}, task.task_id};
  auto refused = decode(through_wire(encode(impossible)));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("class 0 has 5 right of 4"), std::string::npos) << refused.status();
  const msg::EvaluateResult nan_loss{4, 7, 10, std::nan(""), 0.7, {}, {}, task.task_id};
  EXPECT_FALSE(decode(through_wire(encode(nan_loss))).ok());

  msg::EvaluateTask bad_norm = task;
  bad_norm.config.input_std = {0.2, 0.0};
  auto refused_norm = decode(through_wire(encode(bad_norm)));
  ASSERT_FALSE(refused_norm.ok());
  EXPECT_NE(refused_norm.status().message().find("std <= 0"), std::string::npos) << refused_norm.status();
}

}  // namespace
}  // namespace flotilla
