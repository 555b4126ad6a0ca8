// The coordinator's allowlist: which CURVE public keys may connect, under which name, and which
// logical client ids each may register. The transport refuses unknown keys during the handshake
// (transport/zmq/zap_authenticator.h) and tags each message with its sender's NAME
// (Incoming::user_id); the coordinator checks the ids with check_ids().
//
// File format, one client per line; blank lines and lines starting with '#' are ignored:
//
//   # NAME        PUBLIC_KEY (Z85, 40 characters)              IDS
//   site-a        <40 Z85 characters>                          0-9
//   site-b        <40 Z85 characters>                          10,12,20-29
//   debug-host    <40 Z85 characters>                          *        # any id
//
// NAME is [A-Za-z0-9_.-]+ and unique; keys are unique; IDS is "*" (any id) or what
// parse_client_ids (core/id_ranges.h) reads; ids may overlap between names (which connection
// holds an id is the coordinator's call). A fourth field must start a '#' comment (Z85 keys
// may contain '#', so a comment cannot start inside the first three fields).
//
// Thread-safety: const methods may run concurrently; add() needs exclusive access. The transport
// holds it as std::shared_ptr<const Allowlist>, i.e. frozen.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace flotilla {

struct AllowedClient {
  std::string name;             // [A-Za-z0-9_.-]+; the authenticated identity (Incoming::user_id)
  std::string public_key;       // Z85, 40 characters
  bool any_id = false;          // "*": may register any logical client id
  std::vector<int> client_ids;  // sorted, unique; ignored when any_id
};

class Allowlist {
 public:
  Allowlist() = default;

  // InvalidArgument naming the line number and the problem for the first bad line.
  static StatusOr<Allowlist> parse(const std::string& text);
  // parse() of a file; errors name the file too. NotFound for a missing file.
  static StatusOr<Allowlist> load(const std::string& path);

  // nullptr when absent. Pointers stay valid until the next add() or the Allowlist's destruction.
  const AllowedClient* find_by_key(const std::string& z85) const;
  const AllowedClient* find_by_name(const std::string& name) const;

  // OK when `name` may register every id in `ids`; PermissionDenied naming the first id it was not
  // given, or saying that `name` is not in the allowlist.
  Status check_ids(const std::string& name, const std::vector<int>& ids) const;

  size_t size() const { return clients_.size(); }
  const std::vector<AllowedClient>& clients() const { return clients_; }

  // The allowlist in the file format; parse(to_text()) gives an equal list.
  std::string to_text() const;

  // Adds a client built in code (files go through parse()). Sorts and dedups its ids. A bad name
  // or key, or a name or key already present, is a programming error: FLOTILLA_CHECK fails.
  void add(AllowedClient client);

  // OK when `name` is a valid NAME ([A-Za-z0-9_.-]+); InvalidArgument saying what a name may hold.
  static Status check_name(const std::string& name);

  // Why `client` cannot be added (bad or duplicate name or key); OK when it can.
  Status check_addable(const AllowedClient& client) const;

 private:
  std::vector<AllowedClient> clients_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, size_t> by_key_;
};

}  // namespace flotilla
