// CURVE on real sockets over tcp://127.0.0.1: known keys get in under their allowlist name;
// clients without a key, with an unknown key, or expecting another server key get nothing through
// while the server keeps serving good clients; two servers in one process each enforce their own
// allowlist; bad key material is refused up front. "Nothing through" means the server receives
// nothing within 1.5 s (a known client's message takes milliseconds).
#include <gtest/gtest.h>

#include <chrono>
#include <zmq.hpp>

#include "tests/support/text.h"
#include "tests/transport/transport_test_util.h"
#include "transport/zmq/zap_authenticator.h"
#include "transport/zmq/zmq_channels.h"

namespace flotilla {
namespace {

using testing::kArrives;
using testing::kNothing;

using test_text::contains;

using namespace std::chrono_literals;
using testing::allow;
using testing::curve_client_options;
using testing::curve_server_options;
using testing::eventually;
using testing::make_keys;
using testing::receive_within;
using testing::text_frames;

int64_t refusals() {
  auto auth = ZapAuthenticator::process_wide();
  return auth.ok() ? (*auth)->counts().refused : -1;
}

class CurveChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerChannel> bind(const ZmqOptions& options) {
    auto server = bind_server_channel("tcp://127.0.0.1:*", options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }
  std::unique_ptr<ClientChannel> connect(const ServerChannel& server, const ZmqOptions& options) {
    auto client = connect_client_channel(server.endpoint(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  // `client` gets `payload` through, and the server sees it from `name`.
  void expect_through(ServerChannel& server, ClientChannel& client, const std::string& payload,
                      const std::string& name) {
    ASSERT_TRUE(client.send(text_frames({payload})).ok());
    auto in = receive_within(server, kArrives);
    ASSERT_TRUE(in.has_value()) << payload << " did not arrive";
    ASSERT_TRUE(in->refused.ok()) << in->refused;
    ASSERT_EQ(in->frames.size(), 1u);
    EXPECT_EQ(in->frames[0].view(), payload);
    EXPECT_EQ(in->user_id, name);
  }

  // `client` sends, and nothing reaches the server. The send itself fails once the client knows
  // it was refused (its connection is then gone); before that, the message is queued.
  void expect_nothing_through(ServerChannel& server, ClientChannel& client) {
    const Status sent = client.send(text_frames({"let me in"}));
    if (!sent.ok()) {
      EXPECT_NE(sent.code(), StatusCode::kInternal) << sent;
    }
    auto in = receive_within(server, kNothing);
    EXPECT_FALSE(in.has_value()) << "a message got through from user '" << in->user_id << "'";
  }

  // The client's receive eventually fails with `code`, mentioning `mentions`; later sends fail too.
  void expect_client_told(ClientChannel& client, StatusCode code, const std::string& mentions) {
    Status seen;
    EXPECT_TRUE(eventually(
        [&] {
          auto r = client.receive(50ms);
          if (!r.ok()) seen = r.status();
          return !r.ok();
        },
        kArrives));
    EXPECT_EQ(seen.code(), code) << seen;
    EXPECT_TRUE(contains(seen.message(), mentions)) << seen;
    EXPECT_EQ(client.send(text_frames({"again"})).code(), code);
  }

  CurveKeyPair server_keys_ = make_keys();
  CurveKeyPair alice_ = make_keys();
  CurveKeyPair bob_ = make_keys();
  CurveKeyPair mallory_ = make_keys();
};

TEST_F(CurveChannelTest, KnownKeysConnectUnderTheirNames) {
  auto server = bind(curve_server_options(server_keys_, allow({{"alice", alice_}, {"bob", bob_}})));
  ASSERT_NE(server, nullptr);
  auto alice = connect(*server, curve_client_options(alice_, server_keys_.public_key));
  auto bob = connect(*server, curve_client_options(bob_, server_keys_.public_key));
  ASSERT_TRUE(alice && bob);
  expect_through(*server, *alice, "from alice", "alice");
  expect_through(*server, *bob, "from bob", "bob");

  // Replies go back encrypted, and a multipart message keeps its name and frames.
  ASSERT_TRUE(alice->send(text_frames({"a", std::string(70000, 'x'), ""})).ok());
  auto in = receive_within(*server, kArrives);
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->user_id, "alice");
  ASSERT_EQ(in->frames.size(), 3u);
  EXPECT_EQ(in->frames[1].size(), 70000u);
  EXPECT_EQ(in->wire_bytes, server->wire_bytes(in->frames));
  ASSERT_TRUE(server->send(in->peer, text_frames({"welcome"})).ok());
  auto back = receive_within(*alice, kArrives);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ((*back)[0].view(), "welcome");
}

TEST_F(CurveChannelTest, UnknownKeyIsRefusedAndLoggedAndTheServerGoesOn) {
  auto server = bind(curve_server_options(server_keys_, allow({{"alice", alice_}})));
  ASSERT_NE(server, nullptr);
  const int64_t before = refusals();
  auto mallory = connect(*server, curve_client_options(mallory_, server_keys_.public_key));
  ASSERT_NE(mallory, nullptr);
  expect_nothing_through(*server, *mallory);
  EXPECT_TRUE(eventually([&] { return refusals() > before; }, 5000ms)) << "the ZAP handler never saw the key";
  expect_client_told(*mallory, StatusCode::kPermissionDenied, "allowlist");

  auto alice = connect(*server, curve_client_options(alice_, server_keys_.public_key));
  ASSERT_NE(alice, nullptr);
  expect_through(*server, *alice, "still serving", "alice");
}

TEST_F(CurveChannelTest, ClientWithoutAKeyGetsNothingThrough) {
  auto server = bind(curve_server_options(server_keys_, allow({{"alice", alice_}})));
  ASSERT_NE(server, nullptr);
  auto plain = connect(*server, ZmqOptions{});
  ASSERT_NE(plain, nullptr);
  expect_nothing_through(*server, *plain);
  expect_client_told(*plain, StatusCode::kFailedPrecondition, "CURVE");
  auto alice = connect(*server, curve_client_options(alice_, server_keys_.public_key));
  ASSERT_NE(alice, nullptr);
  expect_through(*server, *alice, "still serving", "alice");
}

TEST_F(CurveChannelTest, ClientExpectingAnotherServerKeyGetsNothingThrough) {
  auto server = bind(curve_server_options(server_keys_, allow({{"alice", alice_}})));
  ASSERT_NE(server, nullptr);
  // A known client key, but the client would trust a different server (e.g. an impostor's key).
  auto fooled = connect(*server, curve_client_options(alice_, make_keys().public_key));
  ASSERT_NE(fooled, nullptr);
  expect_nothing_through(*server, *fooled);
  // The server hangs up on a HELLO it cannot open, which looks like a network failure: the client
  // keeps retrying (and logs a warning) rather than failing.
  EXPECT_TRUE(fooled->send(text_frames({"queued"})).ok());
  auto alice = connect(*server, curve_client_options(alice_, server_keys_.public_key));
  ASSERT_NE(alice, nullptr);
  expect_through(*server, *alice, "still serving", "alice");
}

TEST_F(CurveChannelTest, PlainServerDoesNotTalkToACurveClient) {
  auto server = bind(ZmqOptions{});
  ASSERT_NE(server, nullptr);
  auto alice = connect(*server, curve_client_options(alice_, server_keys_.public_key));
  ASSERT_NE(alice, nullptr);
  expect_nothing_through(*server, *alice);
  expect_client_told(*alice, StatusCode::kFailedPrecondition, "CURVE");
}

TEST_F(CurveChannelTest, TwoServersInOneProcessEachEnforceTheirOwnAllowlist) {
  const CurveKeyPair other_server = make_keys();
  auto a = bind(curve_server_options(server_keys_, allow({{"alice", alice_}})));
  auto b = bind(curve_server_options(other_server, allow({{"bob", bob_}})));
  // A plain server alongside: its connections never reach the ZAP handler.
  auto plain = bind(ZmqOptions{});
  ASSERT_TRUE(a && b && plain);

  auto alice_a = connect(*a, curve_client_options(alice_, server_keys_.public_key));
  auto bob_b = connect(*b, curve_client_options(bob_, other_server.public_key));
  auto client_plain = connect(*plain, ZmqOptions{});
  ASSERT_TRUE(alice_a && bob_b && client_plain);
  expect_through(*a, *alice_a, "alice to a", "alice");
  expect_through(*b, *bob_b, "bob to b", "bob");
  expect_through(*plain, *client_plain, "plain", "");

  auto bob_a = connect(*a, curve_client_options(bob_, server_keys_.public_key));
  auto alice_b = connect(*b, curve_client_options(alice_, other_server.public_key));
  ASSERT_TRUE(bob_a && alice_b);
  expect_nothing_through(*a, *bob_a);
  expect_nothing_through(*b, *alice_b);

  // Closing one server leaves the other's allowlist in force.
  a.reset();
  auto alice_b2 = connect(*b, curve_client_options(alice_, other_server.public_key));
  ASSERT_NE(alice_b2, nullptr);
  expect_nothing_through(*b, *alice_b2);
  expect_through(*b, *bob_b, "bob again", "bob");
}

TEST_F(CurveChannelTest, BadKeyMaterialIsNamed) {
  auto expect_invalid = [](const Status& s, const std::string& mentions) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(contains(s.message(), mentions)) << s << " should mention: " << mentions;
  };
  const auto list = allow({{"alice", alice_}});
  const std::string endpoint = "tcp://127.0.0.1:*";

  ZmqOptions o = curve_server_options(server_keys_, list);
  o.security.server_secret_key.pop_back();
  expect_invalid(bind_server_channel(endpoint, o).status(), "server secret key must be 40 Z85 characters");
  o = curve_server_options(server_keys_, nullptr);
  expect_invalid(bind_server_channel(endpoint, o).status(), "allowlist");
  o = curve_server_options(server_keys_, list);
  o.security.server_public_key = alice_.public_key;
  expect_invalid(bind_server_channel(endpoint, o).status(), "does not match");
  o = ZmqOptions{};
  o.security.allowlist = list;
  expect_invalid(bind_server_channel(endpoint, o).status(), "would not be enforced");

  const std::string to = "tcp://127.0.0.1:1";
  ZmqOptions c = curve_client_options(alice_, "not a key");
  expect_invalid(connect_client_channel(to, c).status(), "server public key");
  c = curve_client_options(CurveKeyPair{}, server_keys_.public_key);
  expect_invalid(connect_client_channel(to, c).status(), "needs its own key pair");
  c = curve_client_options(CurveKeyPair{alice_.public_key, bob_.secret_key}, server_keys_.public_key);
  expect_invalid(connect_client_channel(to, c).status(), "does not match");
  c = curve_client_options(alice_, "");
  expect_invalid(connect_client_channel(to, c).status(), "server's public key");
}

TEST(ZmqOptionsTest, BadLimitsAndHeartbeatsAreRefused) {
  ZmqOptions o;
  o.heartbeat_interval_ms = -1;
  EXPECT_EQ(bind_server_channel("tcp://127.0.0.1:*", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(connect_client_channel("tcp://127.0.0.1:1", o).status().code(), StatusCode::kInvalidArgument);
  o = ZmqOptions{};
  o.heartbeat_timeout_ms = 7000000;
  EXPECT_EQ(bind_server_channel("tcp://127.0.0.1:*", o).status().code(), StatusCode::kInvalidArgument);
  o = ZmqOptions{};
  o.max_message_frames = -1;
  EXPECT_EQ(bind_server_channel("tcp://127.0.0.1:*", o).status().code(), StatusCode::kInvalidArgument);
  o = ZmqOptions{};
  o.heartbeat_interval_ms = 0;  // off
  o.heartbeat_timeout_ms = 0;
  EXPECT_TRUE(bind_server_channel("tcp://127.0.0.1:*", o).ok());
}

// The authenticator alone, on a context of its own: one per context, domains registered and
// unregistered, and the User-Id it gives reaches the messages.
TEST(ZapAuthenticatorTest, OnePerContextAndDomainsComeAndGo) {
  zmq::context_t ctx;
  auto auth = ZapAuthenticator::start(ctx.handle());
  ASSERT_TRUE(auth.ok()) << auth.status();
  auto second = ZapAuthenticator::start(ctx.handle());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status();

  const CurveKeyPair server_keys = make_keys(), alice = make_keys();
  const auto list = allow({{"alice", alice}});
  ASSERT_TRUE((*auth)->register_domain("d", list).ok());
  EXPECT_EQ((*auth)->register_domain("d", list).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*auth)->register_domain("", list).code(), StatusCode::kInvalidArgument);

  zmq::socket_t server(ctx, zmq::socket_type::router);
  server.set(zmq::sockopt::linger, 0);
  server.set(zmq::sockopt::curve_server, true);
  server.set(zmq::sockopt::curve_secretkey, server_keys.secret_key);
  server.set(zmq::sockopt::zap_domain, "d");
  server.bind("tcp://127.0.0.1:*");
  const std::string endpoint = server.get(zmq::sockopt::last_endpoint);
  auto client = [&] {
    zmq::socket_t s(ctx, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::curve_serverkey, server_keys.public_key);
    s.set(zmq::sockopt::curve_publickey, alice.public_key);
    s.set(zmq::sockopt::curve_secretkey, alice.secret_key);
    s.connect(endpoint);
    s.send(zmq::str_buffer("hi"));
    return s;
  };
  auto received = [&](std::chrono::milliseconds timeout) -> std::optional<std::string> {
    zmq::pollitem_t item{server.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    zmq::message_t id, body;
    (void)server.recv(id);
    (void)server.recv(body);
    return std::string(body.gets("User-Id"));
  };

  zmq::socket_t first = client();
  EXPECT_EQ(received(kArrives), std::optional<std::string>("alice"));
  EXPECT_EQ((*auth)->counts().accepted, 1);

  (*auth)->unregister_domain("d");
  zmq::socket_t second_client = client();
  EXPECT_EQ(received(kNothing), std::nullopt) << "an unregistered domain must refuse";
  EXPECT_TRUE(eventually([&] { return (*auth)->counts().refused >= 1; }, kArrives));
  first.close();
  second_client.close();
  server.close();
  auth->reset();  // stops and joins the handler; the context can then terminate
}

}  // namespace
}  // namespace flotilla
