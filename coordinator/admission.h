// Admission: bounds what peers that have not registered can cost the coordinator. Each unknown
// peer gets a small budget of messages (enough to register, be refused and retry a few times);
// past it, its messages are dropped unanswered, so a registration or garbage flood gets neither
// replies nor memory. The table of unknown peers is bounded too: the oldest entry is forgotten
// first (it then starts over with a fresh budget, which keeps the cost per peer bounded anyway).
// Registered peers are not counted here. Coordinator thread only.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

namespace flotilla {

struct AdmissionOptions {
  int messages_per_unknown_peer = 16;  // before registering
  size_t max_unknown_peers = 4096;     // entries tracked at once
};

class Admission {
 public:
  explicit Admission(AdmissionOptions options = {}) : options_(options) {}

  // Counts one message from an unregistered `peer`; false when its budget is spent (drop it).
  bool admit_unknown(const std::string& peer);
  // The peer registered: it no longer needs a budget.
  void forget(const std::string& peer);

  int64_t dropped() const { return dropped_; }
  size_t tracked() const { return used_.size(); }

 private:
  AdmissionOptions options_;
  std::list<std::string> order_;  // oldest first
  std::unordered_map<std::string, std::pair<int, std::list<std::string>::iterator>> used_;
  int64_t dropped_ = 0;
};

}  // namespace flotilla
