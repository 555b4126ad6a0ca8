#include "launcher/launch_keys.h"

#include <cstdio>

#include "transport/allowlist.h"
#include "transport/curve_keys.h"

namespace flotilla {

std::vector<std::string> LaunchKeys::coordinator_args() const {
  return {"--curve-secret-key", coordinator_secret_file, "--allowlist", allowlist_file};
}

std::vector<std::string> LaunchKeys::client_args(size_t index) const {
  return {"--coordinator-key", coordinator_public_file, "--key", client_secret_files.at(index)};
}

StatusOr<LaunchKeys> make_launch_keys(const std::string& dir, const std::vector<ClientRange>& ranges) {
  LaunchKeys keys;
  keys.coordinator_secret_file = dir + "/coordinator.secret";
  keys.coordinator_public_file = dir + "/coordinator.public";
  keys.allowlist_file = dir + "/allowlist.txt";
  ASSIGN_OR_RETURN(CurveKeyPair coordinator, generate_curve_keypair());
  RETURN_IF_ERROR(write_key_pair(coordinator, keys.coordinator_secret_file, keys.coordinator_public_file));
  Allowlist allowlist;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const std::string name = "process-" + std::to_string(i);
    ASSIGN_OR_RETURN(CurveKeyPair pair, generate_curve_keypair());
    const std::string secret = dir + "/" + name + ".secret";
    RETURN_IF_ERROR(write_key_pair(pair, secret, dir + "/" + name + ".public"));
    AllowedClient client;
    client.name = name;
    client.public_key = pair.public_key;
    for (int id = ranges[i].first; id <= ranges[i].last; ++id) client.client_ids.push_back(id);
    allowlist.add(std::move(client));
    keys.client_secret_files.push_back(secret);
  }
  FILE* f = std::fopen(keys.allowlist_file.c_str(), "w");
  if (!f) return unavailable_error("cannot write " + keys.allowlist_file);
  const std::string text = allowlist.to_text();
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return unavailable_error("cannot write " + keys.allowlist_file);
  return keys;
}

}  // namespace flotilla
