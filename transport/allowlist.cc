#include "transport/allowlist.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.h"
#include "core/id_ranges.h"
#include "transport/curve_keys.h"

namespace flotilla {
namespace {

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

}  // namespace

Status Allowlist::check_name(const std::string& name) {
  if (!valid_name(name)) return invalid_argument_error("name '" + name + "' must be letters, digits, '_', '.' or '-'");
  return Status();
}

Status Allowlist::check_addable(const AllowedClient& client) const {
  RETURN_IF_ERROR(check_name(client.name));
  if (by_name_.count(client.name))
    return already_exists_error("name '" + client.name + "' is already in the allowlist");
  RETURN_IF_ERROR(check_curve_key(client.public_key, "public key of '" + client.name + "'"));
  if (auto it = by_key_.find(client.public_key); it != by_key_.end()) {
    return already_exists_error("the key of '" + client.name + "' is already allowed as '" + clients_[it->second].name +
                                "'");
  }
  if (!client.any_id && client.client_ids.empty()) return invalid_argument_error("'" + client.name + "' has no ids");
  if (std::any_of(client.client_ids.begin(), client.client_ids.end(), [](int id) { return id < 0; })) {
    return invalid_argument_error("'" + client.name + "' has a negative id");
  }
  return Status();
}

void Allowlist::add(AllowedClient client) {
  const Status addable = check_addable(client);
  FLOTILLA_CHECK(addable.ok()) << addable;
  std::sort(client.client_ids.begin(), client.client_ids.end());
  client.client_ids.erase(std::unique(client.client_ids.begin(), client.client_ids.end()), client.client_ids.end());
  by_name_[client.name] = clients_.size();
  by_key_[client.public_key] = clients_.size();
  clients_.push_back(std::move(client));
}

StatusOr<Allowlist> Allowlist::parse(const std::string& text) {
  Allowlist list;
  std::vector<int> line_of;  // line number of each client, for "already on line N"
  std::istringstream in(text);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string where = "line " + std::to_string(number) + ": ";
    const auto fields = split_fields(line);
    if (fields.empty() || fields[0][0] == '#') continue;
    if (fields.size() < 3 || (fields.size() > 3 && fields[3][0] != '#')) {
      return invalid_argument_error(where + "expected NAME PUBLIC_KEY IDS (and optionally a '# comment'), got " +
                                    std::to_string(fields.size()) + " fields");
    }
    AllowedClient client;
    client.name = fields[0];
    client.public_key = fields[1];
    if (fields[2] == "*") {
      client.any_id = true;
    } else {
      auto ids = parse_client_ids(fields[2]);
      if (!ids.ok()) return invalid_argument_error(where + "ids of '" + client.name + "': " + ids.status().message());
      client.client_ids = std::move(*ids);
    }
    if (auto it = list.by_name_.find(client.name); it != list.by_name_.end()) {
      return invalid_argument_error(where + "name '" + client.name + "' is already used on line " +
                                    std::to_string(line_of[it->second]));
    }
    if (auto it = list.by_key_.find(client.public_key); it != list.by_key_.end()) {
      return invalid_argument_error(where + "the key of '" + client.name + "' is already allowed as '" +
                                    list.clients_[it->second].name + "' on line " +
                                    std::to_string(line_of[it->second]));
    }
    if (Status s = list.check_addable(client); !s.ok()) return invalid_argument_error(where + s.message());
    list.add(std::move(client));
    line_of.push_back(number);
  }
  return list;
}

StatusOr<Allowlist> Allowlist::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return not_found_error("allowlist '" + path + "' does not exist");
    return unavailable_error("cannot open allowlist '" + path + "'");
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return unavailable_error("cannot read allowlist '" + path + "'");
  auto list = parse(text.str());
  if (!list.ok()) return list.status().with_context("allowlist '" + path + "'");
  return list;
}

const AllowedClient* Allowlist::find_by_key(const std::string& z85) const {
  auto it = by_key_.find(z85);
  return it == by_key_.end() ? nullptr : &clients_[it->second];
}

const AllowedClient* Allowlist::find_by_name(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &clients_[it->second];
}

Status Allowlist::check_ids(const std::string& name, const std::vector<int>& ids) const {
  const AllowedClient* client = find_by_name(name);
  if (client == nullptr) return permission_denied_error("'" + name + "' is not in the allowlist");
  if (client->any_id) return Status();
  for (int id : ids) {
    if (!std::binary_search(client->client_ids.begin(), client->client_ids.end(), id)) {
      return permission_denied_error("'" + name + "' may not register client id " + std::to_string(id) +
                                     " (allowed: " + format_client_ids(client->client_ids) + ")");
    }
  }
  return Status();
}

std::string Allowlist::to_text() const {
  std::string text = "# NAME PUBLIC_KEY IDS (see transport/allowlist.h)\n";
  for (const auto& c : clients_) {
    text += c.name + " " + c.public_key + " " + (c.any_id ? std::string("*") : format_client_ids(c.client_ids)) + "\n";
  }
  return text;
}

}  // namespace flotilla
