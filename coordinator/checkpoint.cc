#include "coordinator/checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>

namespace flotilla {
namespace {

namespace fs = std::filesystem;

struct FileEntry {
  int round;
  fs::path path;
};

// round_<digits>.ckpt files in RUN/checkpoints, oldest first (ties by name); NotFound without the folder.
StatusOr<std::vector<FileEntry>> list_checkpoints(const std::string& run_dir) {
  const fs::path folder = fs::path(run_dir) / "checkpoints";
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return not_found_error("no checkpoints in " + run_dir + ": no " + folder.string());
  std::vector<FileEntry> out;
  fs::directory_iterator it(folder, ec), end;
  if (ec) return unavailable_error("cannot list " + folder.string() + ": " + ec.message());
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    constexpr std::string_view kPrefix = "round_", kSuffix = ".ckpt";
    if (name.size() <= kPrefix.size() + kSuffix.size() || name.compare(0, kPrefix.size(), kPrefix) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
      continue;
    const std::string digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      continue;
    out.push_back({std::stoi(digits), it->path()});
  }
  if (ec) return unavailable_error("cannot list " + folder.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const FileEntry& a, const FileEntry& b) {
    return a.round != b.round ? a.round < b.round : a.path < b.path;
  });
  return out;
}

}  // namespace

std::string checkpoint_path(const std::string& run_dir, int round) {
  char name[64];
  std::snprintf(name, sizeof name, "round_%04d.ckpt", round);
  return (fs::path(run_dir) / "checkpoints" / name).string();
}

StatusOr<Checkpoint> load_latest_checkpoint(const std::string& run_dir, std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::vector<FileEntry> files, list_checkpoints(run_dir));
  size_t refused = 0;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    const std::string path = it->path.string();
    auto checkpoint = read_checkpoint_file(path);
    std::string reason;
    if (!checkpoint.ok()) {
      reason = checkpoint.status().message();  // starts with the path
    } else if (checkpoint->round != it->round) {
      reason = path + ": holds round " + std::to_string(checkpoint->round) + ", but its name says round " +
               std::to_string(it->round);
    } else {
      return checkpoint;
    }
    ++refused;
    if (skipped) skipped->push_back(std::move(reason));
  }
  return not_found_error("no valid checkpoint in " + (fs::path(run_dir) / "checkpoints").string() + " (" +
                         std::to_string(refused) + " refused)");
}

Status prune_checkpoints(const std::string& run_dir, int keep) {
  if (keep < 2) {
    return invalid_argument_error(
        "prune_checkpoints keeps at least 2 (so that a corrupt newest one has a "
        "predecessor), got " +
        std::to_string(keep));
  }
  auto files = list_checkpoints(run_dir);
  if (!files.ok()) return files.status().code() == StatusCode::kNotFound ? Status() : files.status();
  const size_t drop = files->size() > static_cast<size_t>(keep) ? files->size() - static_cast<size_t>(keep) : 0;
  for (size_t i = 0; i < drop; ++i) {
    std::error_code ec;
    fs::remove((*files)[i].path, ec);
    if (ec) return unavailable_error("cannot delete " + (*files)[i].path.string() + ": " + ec.message());
  }
  return Status();
}

}  // namespace flotilla
