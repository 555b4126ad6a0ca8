#include "launcher/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace flotilla {
namespace {

void close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

ExitStatus decode(int status) {
  if (WIFSIGNALED(status)) return {true, WTERMSIG(status)};
  return {false, WEXITSTATUS(status)};
}

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(pid_t parent, char* const* argv, int out_fd, int err_fd, int error_fd) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // The launcher may have died before prctl took effect; then nobody would ever stop us.
  if (::getppid() != parent) ::_exit(127);
  // Ignored signals stay ignored across exec (the launcher ignores SIGPIPE); start clean.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::execv(argv[0], argv);
  const int error = errno;
  [[maybe_unused]] ssize_t n = ::write(error_fd, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

std::string ExitStatus::to_string() const {
  if (!signaled) return "exited with status " + std::to_string(value);
  const char* name = ::sigabbrev_np(value);
  return "was killed by " + (name ? "SIG" + std::string(name) : "signal " + std::to_string(value));
}

StatusOr<std::unique_ptr<Process>> Process::start(const std::vector<std::string>& argv) {
  if (argv.empty()) return invalid_argument_error("no program to start");
  // Built before fork: the child may not allocate.
  std::vector<char*> cargv;
  for (const auto& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);

  // O_CLOEXEC everywhere, so that no child inherits another child's pipe ends (which would
  // keep them from ever reaching EOF); dup2 clears it on the child's own 1 and 2. The error pipe
  // closes on a successful exec, which is how the parent tells exec success from failure.
  int out[2], err[2], error_pipe[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return internal_error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]), ::close(out[1]);
    return internal_error(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    ::close(out[0]), ::close(out[1]), ::close(err[0]), ::close(err[1]);
    return internal_error(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(parent, cargv.data(), out[1], err[1], error_pipe[1]);
  const int fork_errno = errno;
  ::close(out[1]), ::close(err[1]), ::close(error_pipe[1]);
  if (pid < 0) {
    ::close(out[0]), ::close(err[0]), ::close(error_pipe[0]);
    return internal_error(std::string("fork: ") + std::strerror(fork_errno));
  }
  // Also from this side, so that signal_group() works even before the child ran setpgid.
  ::setpgid(pid, pid);

  std::unique_ptr<Process> process(new Process());
  process->pid_ = pid;
  process->stdout_fd_ = out[0];
  process->stderr_fd_ = err[0];
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    process->wait();
    return failed_precondition_error("cannot execute " + argv[0] + ": " + std::strerror(exec_errno));
  }
  ::fcntl(process->stdout_fd_, F_SETFL, ::fcntl(process->stdout_fd_, F_GETFL) | O_NONBLOCK);
  ::fcntl(process->stderr_fd_, F_SETFL, ::fcntl(process->stderr_fd_, F_GETFL) | O_NONBLOCK);
  return process;
}

Process::~Process() {
  if (running()) {
    signal_group(SIGKILL);
    wait();
  }
  close_stdout();
  close_stderr();
}

void Process::close_stdout() { close_fd(&stdout_fd_); }
void Process::close_stderr() { close_fd(&stderr_fd_); }

void Process::reap(bool block) {
  siginfo_t info{};
  int rc;
  do {
    // WNOWAIT leaves the child a zombie, so its pid (= its group id) stays ours while we
    // clear out the rest of the group.
    rc = ::waitid(P_PID, pid_, &info, WEXITED | WNOWAIT | (block ? 0 : WNOHANG));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    // ECHILD: someone else reaped it (only possible if SIGCHLD were ignored); report it as lost.
    exit_status_ = ExitStatus{true, SIGKILL};
    return;
  }
  if (info.si_pid == 0) return;  // still running
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = decode(status);
}

std::optional<ExitStatus> Process::try_wait() {
  if (!exit_status_) reap(/*block=*/false);
  return exit_status_;
}

ExitStatus Process::wait() {
  if (!exit_status_) reap(/*block=*/true);
  return *exit_status_;
}

void Process::signal_group(int signal) {
  if (!running()) return;
  if (::kill(-pid_, signal) != 0) ::kill(pid_, signal);
}

}  // namespace flotilla
