#include "launcher/supervisor.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/log.h"
#include "core/token_file.h"
#include "launcher/published_file.h"
#include "launcher/run_progress.h"

namespace flotilla {
namespace {

// Endpoint-file checks while starting; everything else wakes the loop through a pipe.
constexpr std::chrono::milliseconds kStartupTick{25};
// Upper bound on one poll: a safety net, not a timer anything depends on.
constexpr std::chrono::milliseconds kMaxPoll{1000};
// After every child ended, how long output still in flight may take (a helper that left the
// process group could hold a pipe open forever).
constexpr std::chrono::milliseconds kDrainAfterExit{2000};
// The progress line's redraws (its elapsed time moves on even when nothing else happens).
constexpr std::chrono::milliseconds kProgressTick{500};

constexpr const char* kCoordinatorColour = "\x1b[1;36m";
constexpr std::array<const char*, 5> kClientColours = {"\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[36m"};
constexpr const char* kColourReset = "\x1b[0m";

std::string prefix(const std::string& name, const char* colour, bool use_colour) {
  if (!use_colour) return "[" + name + "] ";
  return std::string(colour) + "[" + name + "]" + kColourReset + " ";
}

std::chrono::steady_clock::time_point seconds_from_now(double seconds) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

std::string join_args(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/flotilla-run-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

// The token of --live-view-token-file, for the progress line's polls; empty when there is none or
// it is unusable (the coordinator refuses such a file at start-up, saying why).
std::string read_token(const std::string& path) {
  if (path.empty()) return "";
  auto token = read_token_file(path, "--live-view-token-file", 1);
  return token.ok() ? *token : "";
}

}  // namespace

struct Supervisor::Child {
  std::string name;
  bool is_coordinator = false;
  std::unique_ptr<Process> process;
  std::unique_ptr<LineStreamer> out;
  std::unique_ptr<LineStreamer> err;
  std::optional<ExitStatus> exit;
  bool stopped = false;  // we sent it SIGTERM or SIGKILL
};

Supervisor::Supervisor(const LaunchPlan& plan, SupervisorOptions options) : plan_(plan), options_(options) {}

Supervisor::~Supervisor() {
  children_.clear();  // Process handles kill what still runs
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
  }
}

int Supervisor::run(SignalPipe& signals) {
  temp_dir_ = make_temp_dir();
  if (temp_dir_.empty()) {
    FLOTILLA_LOG(Error) << "cannot create a temporary folder for the endpoint file: " << std::strerror(errno);
    return 1;
  }
  endpoint_file_ = temp_dir_ + "/endpoint";
  started_ = Clock::now();
  std::vector<std::string> coordinator_argv = plan_.coordinator_argv(endpoint_file_, temp_dir_ + "/live-view-url");
  if (plan_.options().progress_line) {
    status_line_ = std::make_unique<StatusLine>(STDOUT_FILENO);
    poller_ = std::make_unique<LiveViewPoller>(temp_dir_ + "/live-view-url", read_token(plan_.live_view_token_file()));
  }
  if (plan_.options().encrypt) {
    auto keys = make_launch_keys(temp_dir_, plan_.ranges());
    if (!keys.ok()) {
      FLOTILLA_LOG(Error) << "cannot make throwaway keys (--no-encryption runs without them): " << keys.status();
      return 1;
    }
    keys_ = std::move(*keys);
    const auto args = keys_->coordinator_args();
    coordinator_argv.insert(coordinator_argv.end(), args.begin(), args.end());
  }
  if (!start_child("coordinator", coordinator_argv, /*is_coordinator=*/true)) return 1;
  deadline_ = seconds_from_now(plan_.options().startup_timeout_s);

  std::optional<Clock::time_point> drain_deadline;
  for (;;) {
    if (!any_running()) {
      if (!drain_deadline) drain_deadline = Clock::now() + kDrainAfterExit;
      if (!any_pipe_open() || Clock::now() >= *drain_deadline) break;
    }
    poll_once(signals, poll_timeout());
    // What the launcher logs itself (stderr, on the same terminal) goes on a line of its own.
    if (status_line_) status_line_->clear();
    reap_children();
    if (phase_ == Phase::kStarting) check_endpoint();
    if (deadline_ && Clock::now() >= *deadline_) on_deadline();
    if (status_line_ && phase_ != Phase::kStopping)
      status_line_->show(
          progress_text(poller_->latest(), std::chrono::duration<double>(Clock::now() - started_).count()));
  }
  poller_.reset();
  if (status_line_) status_line_->clear();
  for (auto& child : children_) {
    if (child->out) child->out->finish();
    if (child->err) child->err->finish();
  }
  print_summary();
  return result_.value_or(0);
}

bool Supervisor::start_child(std::string name, const std::vector<std::string>& argv, bool is_coordinator) {
  FLOTILLA_LOG(Debug) << "starting " << name << ": " << join_args(argv);
  auto process = Process::start(argv);
  if (!process.ok()) {
    FLOTILLA_LOG(Error) << "cannot start " << name << ": " << process.status().message();
    return false;
  }
  auto child = std::make_unique<Child>();
  child->name = std::move(name);
  child->is_coordinator = is_coordinator;
  child->process = std::move(process).value();
  const char* colour =
      is_coordinator ? kCoordinatorColour : kClientColours[(children_.size() - 1) % kClientColours.size()];
  LineStreamer::LineCallback on_line;
  if (is_coordinator) {
    // The coordinator's "round ..." lines are the progress display; count them for the summary.
    on_line = [this](std::string_view line) {
      if (line.rfind("round ", 0) == 0) ++rounds_seen_;
    };
  }
  child->out = std::make_unique<LineStreamer>(STDOUT_FILENO, prefix(child->name, colour, options_.colour_stdout),
                                              std::move(on_line), status_line_.get());
  child->err = std::make_unique<LineStreamer>(STDERR_FILENO, prefix(child->name, colour, options_.colour_stderr),
                                              nullptr, status_line_.get());
  children_.push_back(std::move(child));
  return true;
}

void Supervisor::start_clients(const std::string& endpoint) {
  const auto& ranges = plan_.ranges();
  FLOTILLA_LOG(Info) << "coordinator is listening on " << endpoint << "; starting " << ranges.size()
                     << " client process" << (ranges.size() == 1 ? "" : "es") << " for " << plan_.options().clients
                     << " clients, " << plan_.client_threads() << " thread" << (plan_.client_threads() == 1 ? "" : "s")
                     << " each";
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    std::vector<std::string> argv = plan_.client_argv(i, endpoint, temp_dir_);
    if (keys_) {
      const auto args = keys_->client_args(i);
      argv.insert(argv.end(), args.begin(), args.end());
    }
    if (!start_child(plan_.client_name(i), argv, /*is_coordinator=*/false)) {
      fail(1);
      return;
    }
  }
}

std::chrono::milliseconds Supervisor::poll_timeout() const {
  auto timeout = phase_ == Phase::kStarting ? kStartupTick : kMaxPoll;
  if (deadline_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - Clock::now());
    timeout = std::clamp(left, std::chrono::milliseconds(0), timeout);
  }
  if (!any_running()) timeout = std::min(timeout, std::chrono::milliseconds(100));
  if (status_line_) timeout = std::min(timeout, kProgressTick);
  return timeout;
}

void Supervisor::poll_once(SignalPipe& signals, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  std::vector<std::pair<Child*, bool>> owners;  // (child, is_stdout) for fds[1..]
  fds.push_back({signals.fd(), POLLIN, 0});
  for (auto& child : children_) {
    if (child->process->stdout_fd() >= 0) {
      fds.push_back({child->process->stdout_fd(), POLLIN, 0});
      owners.emplace_back(child.get(), true);
    }
    if (child->process->stderr_fd() >= 0) {
      fds.push_back({child->process->stderr_fd(), POLLIN, 0});
      owners.emplace_back(child.get(), false);
    }
  }
  const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  if (ready <= 0) return;  // timeout, or EINTR from a signal whose byte the next poll sees
  for (std::size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents != 0) read_pipe(*owners[i - 1].first, owners[i - 1].second);
  }
  if (fds[0].revents != 0) {
    for (int signal : signals.drain()) handle_signal(signal);
  }
}

void Supervisor::read_pipe(Child& child, bool is_stdout) {
  const int fd = is_stdout ? child.process->stdout_fd() : child.process->stderr_fd();
  LineStreamer& streamer = is_stdout ? *child.out : *child.err;
  char buffer[64 * 1024];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n > 0) {
    streamer.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    streamer.finish();
    if (is_stdout) {
      child.process->close_stdout();
    } else {
      child.process->close_stderr();
    }
  }
}

void Supervisor::handle_signal(int signal) {
  if (signal == SIGCHLD) return;  // reap_children() runs after every poll
  const char* name = ::sigabbrev_np(signal);
  if (phase_ == Phase::kStopping) {
    FLOTILLA_LOG(Warning) << "received SIG" << (name ? name : "?") << " again; killing every process now";
    kill_all();
    return;
  }
  FLOTILLA_LOG(Warning) << "received SIG" << (name ? name : "?")
                        << "; stopping every process (send it again to kill them at once)";
  if (result_.value_or(0) == 0) result_ = 128 + signal;
  begin_stop();
}

void Supervisor::reap_children() {
  for (auto& child : children_) {
    if (child->exit) continue;
    if (auto status = child->process->try_wait()) {
      child->exit = *status;
      on_exit(*child, *status);
    }
  }
}

void Supervisor::on_exit(Child& child, const ExitStatus& status) {
  const std::string who = child.name + " (pid " + std::to_string(child.process->pid()) + ")";
  if (child.stopped) {
    FLOTILLA_LOG(Debug) << who << " " << status.to_string();
    return;
  }
  if (!status.success()) {
    FLOTILLA_LOG(Error) << who << " " << status.to_string()
                        << (child.is_coordinator && phase_ == Phase::kStarting ? " before it was ready" : "")
                        << (any_running() ? "; stopping the other processes" : "");
    // The coordinator's own status says what went wrong (2: bad flags); a client's is just "failed".
    fail(child.is_coordinator && !status.signaled ? status.value : 1);
    return;
  }
  if (!child.is_coordinator) {
    if (phase_ == Phase::kRunning) {
      FLOTILLA_LOG(Debug) << who << " exited with status 0 while the run goes on";
    }
    return;
  }
  if (!result_) result_ = 0;
  if (phase_ == Phase::kStarting) {
    // It never listened (--list-aggregators, say): nothing for clients to do.
    FLOTILLA_LOG(Info) << "the coordinator exited without starting a run; no clients started";
    deadline_.reset();
    return;
  }
  if (phase_ == Phase::kRunning && any_running()) {
    FLOTILLA_LOG(Debug) << "coordinator finished; clients have " << plan_.options().client_grace_s << "s to exit";
    phase_ = Phase::kDraining;
    deadline_ = seconds_from_now(plan_.options().client_grace_s);
  }
}

void Supervisor::check_endpoint() {
  if (children_.empty() || children_[0]->exit) return;
  const std::string endpoint = read_published_word(endpoint_file_);
  if (endpoint.empty()) return;
  phase_ = Phase::kRunning;
  deadline_.reset();
  start_clients(endpoint);
}

void Supervisor::on_deadline() {
  switch (phase_) {
    case Phase::kStarting:
      FLOTILLA_LOG(Error) << "the coordinator did not write its endpoint within " << plan_.options().startup_timeout_s
                          << "s; stopping it";
      fail(1);
      break;
    case Phase::kRunning:
      deadline_.reset();
      break;
    case Phase::kDraining: {
      std::string names;
      for (const auto& child : children_) {
        if (!child->exit) names += (names.empty() ? "" : ", ") + child->name;
      }
      FLOTILLA_LOG(Warning) << names << " still running " << plan_.options().client_grace_s
                            << "s after the coordinator finished; stopping them";
      begin_stop();
      break;
    }
    case Phase::kStopping:
      kill_all();
      break;
  }
}

void Supervisor::fail(int status) {
  // The first failure wins, over a coordinator that had already finished well too.
  if (result_.value_or(0) == 0) result_ = status == 0 ? 1 : status;
  if (phase_ != Phase::kStopping) begin_stop();
}

void Supervisor::begin_stop() {
  phase_ = Phase::kStopping;
  deadline_ = seconds_from_now(plan_.options().stop_timeout_s);
  for (auto& child : children_) {
    if (child->exit) continue;
    child->stopped = true;
    child->process->signal_group(SIGTERM);
  }
}

void Supervisor::kill_all() {
  deadline_.reset();
  for (auto& child : children_) {
    if (child->exit) continue;
    if (!killed_) {
      FLOTILLA_LOG(Warning) << child->name << " still running; sending SIGKILL";
    }
    child->stopped = true;
    child->process->signal_group(SIGKILL);
  }
  killed_ = true;
}

bool Supervisor::any_running() const {
  return std::any_of(children_.begin(), children_.end(), [](const auto& c) { return !c->exit; });
}

bool Supervisor::any_pipe_open() const {
  return std::any_of(children_.begin(), children_.end(),
                     [](const auto& c) { return c->process->stdout_fd() >= 0 || c->process->stderr_fd() >= 0; });
}

void Supervisor::print_summary() const {
  std::ostringstream summary;
  summary << "summary: " << rounds_seen_ << " round" << (rounds_seen_ == 1 ? "" : "s");
  for (const auto& child : children_) {
    summary << "; " << child->name << " ";
    if (!child->exit) {
      summary << "still running";
    } else if (child->stopped) {
      summary << "stopped (" << child->exit->to_string() << ")";
    } else {
      summary << child->exit->to_string();
    }
  }
  if (result_.value_or(0) == 0) {
    FLOTILLA_LOG(Info) << summary.str();
  } else {
    FLOTILLA_LOG(Error) << summary.str() << "; exit status " << *result_;
  }
}

}  // namespace flotilla
