#include "launcher/live_view_poller.h"

#include <httplib.h>

#include "launcher/published_file.h"

namespace flotilla {
namespace {

// "http://127.0.0.1:8080/" -> "http://127.0.0.1:8080" (httplib::Client takes no path); empty
// until the coordinator has written the file.
std::string read_url(const std::string& path) {
  std::string url = read_published_word(path);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

LiveViewPoller::LiveViewPoller(std::string url_file, std::string token, std::chrono::milliseconds interval)
    : url_file_(std::move(url_file)), token_(std::move(token)), interval_(interval), thread_([this] { loop(); }) {}

LiveViewPoller::~LiveViewPoller() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::optional<RunProgress> LiveViewPoller::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

void LiveViewPoller::loop() {
  std::unique_ptr<httplib::Client> http;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, interval_, [this] { return stop_; })) return;
    }
    if (!http) {
      const std::string url = read_url(url_file_);
      if (url.empty()) continue;
      http = std::make_unique<httplib::Client>(url);
      // A stalled answer delays the next one only: this thread draws nothing.
      http->set_connection_timeout(1, 0);
      http->set_read_timeout(1, 0);
      http->set_keep_alive(true);
    }
    httplib::Headers headers;
    if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
    auto response = http->Get("/api/state", headers);
    if (!response || response->status != 200) continue;
    auto progress = parse_run_progress(response->body);
    if (!progress.ok()) continue;
    std::lock_guard lock(mutex_);
    latest_ = std::move(*progress);
  }
}

}  // namespace flotilla
