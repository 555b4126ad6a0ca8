#include "coordinator/live_view_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace flotilla {
namespace {

using json = nlohmann::json;

RunInfo two_clients() {
  RunInfo info;
  info.rounds = 3;
  info.num_clients = 2;
  return info;
}

class LiveViewServerTest : public ::testing::Test {
 protected:
  void SetUp() override { status_.on_run_started(two_clients()); }

  std::unique_ptr<LiveViewServer> start(LiveViewOptions options = {}) {
    auto server = LiveViewServer::start(status_, std::move(options));
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(server).value() : nullptr;
  }

  LiveStatus status_;
};

TEST_F(LiveViewServerTest, ServesEveryRoute) {
  auto server = start();
  ASSERT_TRUE(server);
  ASSERT_GT(server->port(), 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()) + "/");
  httplib::Client http("127.0.0.1", server->port());

  auto page = http.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("id=\"round-number\""), std::string::npos);
  EXPECT_EQ(page->body, std::string(live_view_page()));
  // Nothing from elsewhere: the policy allows this origin only.
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos);
  EXPECT_EQ(page->body.find("https://"), std::string::npos);

  auto state = http.Get("/api/state");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->status, 200);
  EXPECT_EQ(state->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(state->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(json::parse(state->body)["clients"].size(), 2u);

  auto rounds = http.Get("/api/rounds?since=0");
  ASSERT_TRUE(rounds);
  EXPECT_EQ(rounds->status, 200);
  EXPECT_EQ(json::parse(rounds->body)["rounds"].size(), 0u);
  EXPECT_EQ(http.Get("/api/rounds")->status, 200) << "since defaults to 0";

  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("# TYPE flotilla_clients_alive gauge"), std::string::npos);

  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  EXPECT_EQ(http.Head("/api/state")->status, 200);
}

TEST_F(LiveViewServerTest, BadRequestsGetTheirStatus) {
  auto server = start();
  ASSERT_TRUE(server);
  httplib::Client http("127.0.0.1", server->port());
  auto missing = http.Get("/api/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("/api/nothing"), std::string::npos);
  EXPECT_EQ(http.Get("/index.html")->status, 404);

  std::vector<httplib::Result> refused;
  refused.push_back(http.Post("/api/state", "x", "text/plain"));
  refused.push_back(http.Put("/metrics", "x", "text/plain"));
  refused.push_back(http.Delete("/"));
  refused.push_back(http.Options("/healthz"));
  for (const auto& response : refused) {
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 405);
    EXPECT_EQ(response->get_header_value("Allow"), "GET, HEAD");
  }
  EXPECT_EQ(http.Post("/nowhere", "x", "text/plain")->status, 404);

  for (const char* query : {"since=-1", "since=abc", "since=", "since=1.5", "since=99999999999"}) {
    auto response = http.Get(std::string("/api/rounds?") + query);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << query;
    EXPECT_NE(response->body.find("since"), std::string::npos) << query;
  }
}

TEST_F(LiveViewServerTest, LoopbackWithoutATokenAnswersLoopbackNamesOnly) {
  auto server = start();
  ASSERT_TRUE(server);
  httplib::Client http("127.0.0.1", server->port());
  EXPECT_EQ(http.Get("/api/state", {{"Host", "localhost:" + std::to_string(server->port())}})->status, 200);
  auto rebound = http.Get("/api/state", {{"Host", "attacker.example:" + std::to_string(server->port())}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  EXPECT_NE(rebound->body.find("loopback"), std::string::npos);
}

TEST_F(LiveViewServerTest, ATokenIsRequiredAndAcceptedEitherWay) {
  LiveViewOptions options;
  options.token = "0123456789abcdef-secret";
  auto server = start(options);
  ASSERT_TRUE(server);
  httplib::Client http("127.0.0.1", server->port());
  for (const char* path : {"/", "/api/state", "/api/rounds", "/metrics", "/healthz"}) {
    auto none = http.Get(path);
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << path;
    EXPECT_NE(none->body.find("token"), std::string::npos) << path;
    EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer realm=\"flotilla live view\"");
  }
  EXPECT_EQ(http.Get("/api/state", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(http.Get("/api/state", {{"Authorization", "Bearer 0123456789abcdef-secreT"}})->status, 401);
  EXPECT_EQ(http.Get("/api/state?token=0123456789abcdef-secre")->status, 401);
  EXPECT_EQ(http.Get("/api/state", {{"Authorization", "Bearer 0123456789abcdef-secret"}})->status, 200);
  EXPECT_EQ(http.Get("/?token=0123456789abcdef-secret")->status, 200);
  EXPECT_EQ(http.Get("/metrics?token=0123456789abcdef-secret")->status, 200);
  // With a token the Host header does not matter: the token is the access control.
  EXPECT_EQ(
      http.Get("/api/state", {{"Authorization", "Bearer 0123456789abcdef-secret"}, {"Host", "example.org"}})->status,
      200);
}

TEST_F(LiveViewServerTest, APortInUseIsRefusedNamingTheAddress) {
  auto first = start();
  ASSERT_TRUE(first);
  LiveViewOptions options;
  options.port = first->port();
  auto second = LiveViewServer::start(status_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("127.0.0.1:" + std::to_string(first->port())), std::string::npos)
      << second.status();
}

TEST_F(LiveViewServerTest, StopEndsServing) {
  auto server = start();
  ASSERT_TRUE(server);
  const int port = server->port();
  server->stop();
  server->stop();  // twice is fine
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(1);
  EXPECT_FALSE(http.Get("/healthz"));
}

TEST(LiveViewTokenTest, ReadsOneLineAndRefusesWhatIsNoToken) {
  char dir_template[] = "/tmp/flotilla-token-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  auto ok = read_live_view_token(write("ok", "  0123456789abcdef0123 \nsecond line\n"));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, "0123456789abcdef0123");
  for (const auto& [path, expected] :
       std::vector<std::pair<std::string, std::string>>{{dir + "/missing", "cannot read"},
                                                        {write("empty", ""), "cannot read it, or it is empty"},
                                                        {write("blank", "   \n"), "holds no token"},
                                                        {write("short", "abc123\n"), "fewer than 16"}}) {
    auto token = read_live_view_token(path);
    ASSERT_FALSE(token.ok()) << path;
    EXPECT_EQ(token.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(token.status().message().find("--live-view-token-file"), std::string::npos) << token.status();
    EXPECT_NE(token.status().message().find(expected), std::string::npos) << token.status();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flotilla
