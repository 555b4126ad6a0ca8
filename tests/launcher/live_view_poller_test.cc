#include "launcher/live_view_poller.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/launcher/launcher_harness.h"

namespace flotilla {
namespace {

using namespace std::chrono_literals;

// A stand-in for the coordinator's live view: /api/state, for the right token only.
class FakeLiveView {
 public:
  explicit FakeLiveView(std::string token) : token_(std::move(token)) {
    server_.Get("/api/state", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      if (req.get_header_value("Authorization") != "Bearer " + token_) {
        res.status = 401;
        return;
      }
      res.set_content(R"({"run": {"status": "training", "rounds": 4}, "round": {"number": 2, "sampled": 3,
                          "done": 1}, "counts": {"clients": 3, "alive": 3}, "estimate": {"left_seconds": 9}})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeLiveView() {
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int requests() const { return requests_; }

 private:
  std::string token_;
  httplib::Server server_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(LiveViewPoller, FindsTheUrlOnceWrittenAndKeepsTheLatestState) {
  testing::TempDir dir;
  FakeLiveView view("0123456789abcdef");
  LiveViewPoller poller(dir.file("url"), "0123456789abcdef", 20ms);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(poller.latest()) << "no URL yet";
  testing::write_text(dir.file("url"), view.url() + "\n");
  ASSERT_TRUE(testing::wait_until([&] { return poller.latest().has_value(); }, 5000ms));
  const RunProgress p = *poller.latest();
  EXPECT_EQ(p.round, 2);
  EXPECT_EQ(p.done, 1);
  EXPECT_EQ(p.sampled, 3);
  EXPECT_EQ(progress_text(p, 1), "round 2/4  clients 1/3 done  elapsed 1.0s  left ~9.0s");
}

TEST(LiveViewPoller, AWrongTokenOrNoServerLeavesNothingAndDoesNotHang) {
  testing::TempDir dir;
  FakeLiveView view("0123456789abcdef");
  testing::write_text(dir.file("url"), view.url() + "\n");
  {
    LiveViewPoller poller(dir.file("url"), "wrong", 20ms);
    ASSERT_TRUE(testing::wait_until([&] { return view.requests() >= 2; }, 5000ms));
    EXPECT_FALSE(poller.latest());
  }
  testing::write_text(dir.file("gone"), "http://127.0.0.1:1/\n");
  const auto start = std::chrono::steady_clock::now();
  {
    LiveViewPoller poller(dir.file("gone"), "", 20ms);
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s) << "stopping waits for at most one request";
}

}  // namespace
}  // namespace flotilla
