#include "launcher/signal_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace flotilla {
namespace {

constexpr std::array<int, 4> kSignals = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};

volatile sig_atomic_t g_write_fd = -1;
std::array<struct sigaction, kSignals.size()> g_previous{};

void on_signal(int signal) {
  const int saved_errno = errno;
  const unsigned char byte = static_cast<unsigned char>(signal);
  // A full pipe drops the byte: the loop is then awake anyway and sees the earlier ones.
  [[maybe_unused]] ssize_t n = ::write(g_write_fd, &byte, 1);
  errno = saved_errno;
}

}  // namespace

StatusOr<std::unique_ptr<SignalPipe>> SignalPipe::install() {
  if (g_write_fd >= 0) return failed_precondition_error("a SignalPipe is already installed");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return internal_error(std::string("pipe: ") + std::strerror(errno));
  }
  std::unique_ptr<SignalPipe> pipe(new SignalPipe());
  pipe->read_fd_ = fds[0];
  pipe->write_fd_ = fds[1];
  g_write_fd = fds[1];
  struct sigaction action {};
  action.sa_handler = on_signal;
  ::sigemptyset(&action.sa_mask);
  // SA_NOCLDSTOP: a stopped child (SIGSTOP) is not an ended one. SA_RESTART keeps stray
  // blocking calls going; poll() still returns EINTR, which the loop expects.
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &action, &g_previous[i]);
  return pipe;
}

SignalPipe::~SignalPipe() {
  for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &g_previous[i], nullptr);
  g_write_fd = -1;
  ::close(read_fd_);
  ::close(write_fd_);
}

std::vector<int> SignalPipe::drain() {
  std::vector<int> signals;
  unsigned char buffer[64];
  for (;;) {
    const ssize_t n = ::read(read_fd_, buffer, sizeof buffer);
    if (n > 0) {
      signals.insert(signals.end(), buffer, buffer + n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return signals;  // EAGAIN: empty
    }
  }
}

}  // namespace flotilla
