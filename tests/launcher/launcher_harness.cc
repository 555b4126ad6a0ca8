#include "tests/launcher/launcher_harness.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace flotilla::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/flotilla-launcher-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

void write_script(const std::string& path, const std::string& body) {
  write_text(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = -1;
  if (!(in >> pid)) return -1;
  return pid;
}

bool process_gone(pid_t pid) { return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH; }

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

int count_files_with_prefix(const std::string& dir, const std::string& prefix) {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) ++count;
  }
  return count;
}

LauncherRun::LauncherRun(const std::vector<std::string>& args) : start_(std::chrono::steady_clock::now()) {
  std::vector<std::string> argv = {std::string(FLOTILLA_BIN_DIR) + "/flotilla-run"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = Process::start(argv);
  if (!process.ok()) {
    ADD_FAILURE() << process.status();
    std::abort();
  }
  process_ = std::move(process).value();
}

LauncherResult LauncherRun::finish(std::chrono::milliseconds timeout) {
  LauncherResult result;
  const auto deadline = start_ + timeout;
  bool killed = false;
  while (process_->stdout_fd() >= 0 || process_->stderr_fd() >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !killed) {
      ADD_FAILURE() << "flotilla-run did not end within " << timeout.count() << " ms; killing it";
      process_->signal_group(SIGKILL);
      killed = true;
    }
    pollfd fds[2] = {{process_->stdout_fd(), POLLIN, 0}, {process_->stderr_fd(), POLLIN, 0}};
    ::poll(fds, 2, killed ? 100 : static_cast<int>(std::min<long>(left.count(), 100)));
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EAGAIN) {
        i == 0 ? process_->close_stdout() : process_->close_stderr();
      }
    }
  }
  const ExitStatus status = process_->wait();
  result.exit_code = killed ? -1 : status.shell_code();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return result;
}

}  // namespace flotilla::testing
