// LiveViewPoller: asks the coordinator's live view how the run goes (GET /api/state) every half
// second, for flotilla-run's progress line. It runs on a thread of its own, so that a coordinator
// slow to answer never holds up the output the launcher streams; the launcher reads the latest
// answer whenever it redraws. The live view's URL appears in `url_file` once the coordinator
// serves it (--live-view-url-file); until then, and when it does not answer, latest() stays as
// it was.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "launcher/run_progress.h"

namespace flotilla {

class LiveViewPoller {
 public:
  // `token`: sent as "Authorization: Bearer" when not empty (--live-view-token-file).
  LiveViewPoller(std::string url_file, std::string token,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(500));
  ~LiveViewPoller();  // stops and joins the thread
  LiveViewPoller(const LiveViewPoller&) = delete;
  LiveViewPoller& operator=(const LiveViewPoller&) = delete;

  // The last state read, or nothing before the first.
  std::optional<RunProgress> latest() const;

 private:
  void loop();

  const std::string url_file_;
  const std::string token_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::optional<RunProgress> latest_;
  std::thread thread_;
};

}  // namespace flotilla
