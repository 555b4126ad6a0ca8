// ConductBudget: bounds what a registered peer that misbehaves can cost the coordinator.
// Registration (and, with CURVE, the key it took) says who a peer is, not that it behaves: a
// buggy or hostile client can send malformed frames, answers to tasks nobody sent it, or
// messages the protocol has no place for, as fast as its link allows. Each such message spends a
// token of the peer's bucket (a burst, refilled at a steady rate); while the bucket is empty the
// peer is throttled: its messages are dropped unread, good ones too. A peer that keeps sending
// while throttled, `disconnect_after` messages in all, is disconnected: the hub declares its
// process lost and tells it why. An honest client never comes near the burst: stale answers
// after a restart are a handful. Unregistered peers are Admission's (admission.h). Coordinator
// thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace flotilla {

struct ConductBudgetOptions {
  int burst = 64;                  // bad messages allowed at once
  double refill_per_second = 8.0;  // bad messages allowed per second, on average, after the burst
  int disconnect_after = 512;      // messages dropped while throttled before the peer is disconnected
};

class ConductBudget {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Verdict {
    kRead,        // read the message
    kThrottled,   // drop it unread: the peer's budget is spent
    kDisconnect,  // drop it and disconnect the peer (once: the peer is forgotten)
  };

  explicit ConductBudget(ConductBudgetOptions options = {}) : options_(options) {}

  // A message from registered `peer` came in at `now`.
  Verdict on_message(const std::string& peer, Clock::time_point now);
  // What `peer` sent was bad (malformed, refused by the transport, unexpected): spends a token.
  void charge(const std::string& peer, Clock::time_point now);
  // The peer left (or was disconnected): its budget goes with it.
  void forget(const std::string& peer) { peers_.erase(peer); }

  int64_t dropped() const { return dropped_; }  // messages dropped unread, all peers, whole run

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point refilled{};
    int64_t dropped = 0;  // while throttled
  };
  Bucket& bucket_of(const std::string& peer, Clock::time_point now);

  ConductBudgetOptions options_;
  std::unordered_map<std::string, Bucket> peers_;
  int64_t dropped_ = 0;
};

}  // namespace flotilla
