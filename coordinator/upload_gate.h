// UploadGate: which offered client answers may be uploaded now. Without it, every client that
// finishes sends its update at once, and libzmq reads them all into the coordinator's memory while
// it folds the first: 100 clients of a round finishing together cost 100 models, whatever the
// streaming fold saves. A transport high-water mark cannot bound this: a receive queue that
// stops reading also stops reading ZMTP heartbeats, and libzmq drops the connection and the
// messages in flight (measured: 2 of 20 lost with a queue of one). So clients offer their
// answers (protocol 7, msg::UploadOffer) and send each when granted; the gate grants offers in
// the order they came while the granted bytes not yet arrived fit the budget (one upload is always
// allowed, however large). A grant not honoured within the grant timeout gives its bytes back, so
// that a client that holds a grant and sends nothing (a bug, or a hostile client with a valid key)
// cannot stop everyone else's uploads; its update is still taken if it comes later. Pure
// bookkeeping, coordinator thread only; ClientHub sends the grants.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace flotilla {

class UploadGate {
 public:
  using Clock = std::chrono::steady_clock;
  struct Offer {
    std::string peer;  // the client process's routing id
    uint64_t task_id = 0;
    int client_id = -1;
    int64_t bytes = 0;
    Clock::time_point granted_at{};  // set by grantable()
  };

  explicit UploadGate(int64_t budget_bytes, Clock::duration grant_timeout = std::chrono::seconds(60))
      : budget_bytes_(budget_bytes), grant_timeout_(grant_timeout) {}

  // Queues an offer. A second offer for the same client replaces the first (a client holds one
  // answer per client at a time; the older one is stale).
  void offer(Offer offer);
  // Offers to grant now, in the order they came, moved from the queue to in flight, after the
  // grants older than the grant timeout at `now` have given their bytes back.
  std::vector<Offer> grantable(Clock::time_point now = Clock::now());
  // The upload of `client_id` from `peer` arrived, or will not (the client reported an error):
  // its bytes leave the budget. Nothing happens for a client with no upload in flight.
  void done(const std::string& peer, int client_id);
  // Removes and returns the queued offers `unwanted` says are no longer wanted (to decline them).
  std::vector<Offer> drop_queued_if(const std::function<bool(const Offer&)>& unwanted);
  // The process is gone or registered anew: its queued offers and uploads in flight are dropped.
  void forget_peer(const std::string& peer);

  // The most granted bytes in transit, and the most offers left waiting by grantable(), at once
  // since the last call (the round's figures, for its metrics row); then starts over from the
  // present values.
  struct Peaks {
    int64_t in_transit_bytes = 0;
    int64_t waiting = 0;
  };
  Peaks take_peaks();

  int64_t budget_bytes() const { return budget_bytes_; }
  int64_t in_flight_bytes() const { return in_flight_bytes_; }
  size_t in_flight() const { return in_flight_.size(); }
  size_t queued() const { return queued_.size(); }
  int64_t expired() const { return expired_; }  // grants that timed out, since the start

 private:
  // Removes the uploads in flight that `released` names and takes their bytes off the budget;
  // returns how many.
  int64_t release_in_flight_if(const std::function<bool(const Offer&)>& released);

  int64_t budget_bytes_;
  Clock::duration grant_timeout_;
  int64_t in_flight_bytes_ = 0;
  int64_t expired_ = 0;
  std::deque<Offer> queued_;
  std::vector<Offer> in_flight_;
  Peaks peaks_;
};

}  // namespace flotilla
