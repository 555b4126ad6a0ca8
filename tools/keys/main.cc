// flotilla-keys: CURVE keys for a secured run (transport/curve_keys.h, transport/allowlist.h).
//
//   flotilla-keys generate --out keys coordinator site-a site-b   # NAME.secret (0600) + NAME.public
//   flotilla-keys allow --ids 0-9 keys/site-a.public >> allowlist.txt
//   flotilla-keys show keys/site-a.public
//
// The coordinator gets its own .secret and the allowlist; each client process gets its own
// .secret and the coordinator's .public. Secret files never leave the host they are used on.
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <set>

#include "core/id_ranges.h"
#include "tools/command_line.h"
#include "transport/allowlist.h"
#include "transport/curve_keys.h"

namespace {

using namespace flotilla;

// Exit statuses, as --help states them (2, kExitUsage: bad flags, tools/command_line.h).
constexpr int kExitFailure = 1;  // a file could not be read or written, or would be overwritten

struct Failure {
  int exit_code;
  std::string message;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::optional<Failure> generate(const std::string& dir, const std::vector<std::string>& names, bool force) {
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (Status s = Allowlist::check_name(name); !s.ok()) return Failure{kExitUsage, s.message()};
    if (!seen.insert(name).second) return Failure{kExitUsage, "name '" + name + "' is given twice"};
  }
  // Refuse before writing anything, so that a refusal leaves no half-done set of keys.
  for (const auto& name : names) {
    const std::string secret = dir + "/" + name + ".secret";
    std::error_code ec;
    if (!force && std::filesystem::exists(secret, ec)) {
      return Failure{kExitFailure, secret + " exists; --force replaces it (the old key then stops working)"};
    }
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Failure{kExitFailure, "cannot create " + dir + ": " + ec.message()};
    ::chmod(dir.c_str(), 0700);  // a folder made for secrets: only its owner looks in
  }
  for (const auto& name : names) {
    auto keys = generate_curve_keypair();
    if (!keys.ok()) return Failure{kExitFailure, keys.status().message()};
    const std::string secret = dir + "/" + name + ".secret", pub = dir + "/" + name + ".public";
    if (Status s = write_key_pair(*keys, secret, pub); !s.ok()) return Failure{kExitFailure, s.message()};
    std::cout << "wrote " << secret << " (keep private) and " << pub << ": " << keys->public_key << "\n";
  }
  return std::nullopt;
}

std::optional<Failure> allow(const std::string& key_arg, const std::string& ids_text, std::string name) {
  auto key = read_public_key(key_arg);
  if (!key.ok()) return Failure{kExitFailure, key.status().message()};
  if (name.empty()) {
    if (key_arg == *key) return Failure{kExitUsage, "--name is required with a literal key"};
    name = std::filesystem::path(key_arg).stem().string();
  }
  if (Status s = Allowlist::check_name(name); !s.ok())
    return Failure{kExitUsage, s.message() + " (choose one with --name)"};
  std::string ids = "*";
  if (ids_text != "*") {
    auto parsed = parse_client_ids(ids_text);
    if (!parsed.ok()) return Failure{kExitUsage, "--ids: " + parsed.status().message()};
    ids = format_client_ids(*parsed);
  }
  std::cout << name << " " << *key << " " << ids << "\n";
  return std::nullopt;
}

std::optional<Failure> show(const std::string& path) {
  if (ends_with(path, ".secret")) {
    // Checked whole (mode, pair), so that `show` also tells whether the secret file is usable.
    auto keys = read_secret_key_file(path);
    if (!keys.ok()) return Failure{kExitFailure, keys.status().message()};
    std::cout << keys->public_key << "\n";
    return std::nullopt;
  }
  auto key = read_public_key(path);
  if (!key.ok()) return Failure{kExitFailure, key.status().message()};
  std::cout << *key << "\n";
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Flotilla CURVE keys: key pairs for the coordinator and the clients, and lines for the coordinator's "
      "allowlist (NAME PUBLIC_KEY IDS).\n"
      "Exit status: 0 done, 1 a file could not be read or written (or would be overwritten), 2 bad arguments."};
  app.require_subcommand(1);

  std::string out_dir;
  std::vector<std::string> names;
  bool force = false;
  auto* gen = app.add_subcommand("generate", "write OUT/NAME.secret (mode 0600) and OUT/NAME.public for each NAME");
  gen->add_option("--out", out_dir, "folder for the key files (made, mode 0700, if missing)")->required();
  gen->add_flag("--force", force, "replace existing key files");
  gen->add_option("names", names, "key names ([A-Za-z0-9_.-]+; a client's name in the allowlist)")->required();

  std::string key_arg, ids, allow_name;
  auto* allow_cmd = app.add_subcommand("allow", "print the allowlist line for a public key: NAME PUBLIC_KEY IDS");
  allow_cmd->add_option("--ids", ids, "logical client ids it may register: 0-9, 0,3,5-7, or * for any")->required();
  allow_cmd->add_option("--name", allow_name, "name in the allowlist (default: the key file's name without .public)");
  allow_cmd->add_option("key", key_arg, "a .public (or .secret) key file, or a 40-character Z85 public key")
      ->required();

  std::string show_path;
  auto* show_cmd = app.add_subcommand("show", "print the public key of a .public or .secret file");
  show_cmd->add_option("file", show_path, "key file")->required();

  if (auto stop = parse_command_line(app, argc, argv)) return *stop;

  std::optional<Failure> failure;
  if (gen->parsed()) failure = generate(out_dir, names, force);
  if (allow_cmd->parsed()) failure = allow(key_arg, ids, allow_name);
  if (show_cmd->parsed()) failure = show(show_path);
  if (failure) {
    std::cerr << "error: " << failure->message << "\n";
    return failure->exit_code;
  }
  return 0;
}
