// Helpers for tests that run flotilla-run against fake coordinator and client scripts.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "launcher/process.h"

namespace flotilla::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes an executable /bin/sh script.
void write_script(const std::string& path, const std::string& body);
void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
// The pid a fake wrote to `path` (its $$), or -1 when there is none.
pid_t read_pid(const std::string& path);
// True once no process has this pid (it ended and was reaped).
bool process_gone(pid_t pid);
// Polls until `done()` holds or `timeout` passed; returns done().
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
int count_files_with_prefix(const std::string& dir, const std::string& prefix);

struct LauncherResult {
  int exit_code = -1;  // shell convention (128 + signal); -1 if it had to be killed on timeout
  std::string out;
  std::string err;
  double seconds = 0;
};

// flotilla-run (from the build tree) running with `args`, its stdout and stderr captured.
class LauncherRun {
 public:
  explicit LauncherRun(const std::vector<std::string>& args);
  pid_t pid() const { return process_->pid(); }
  // Collects output until flotilla-run ended and closed its pipes; kills it after `timeout`.
  LauncherResult finish(std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<Process> process_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace flotilla::testing
