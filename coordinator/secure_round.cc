#include "coordinator/secure_round.h"

#include "secagg/wire.h"

namespace flotilla {
namespace {

// What a client that stops answering in stage s missed.
const char* missed_in(int stage) {
  switch (stage) {
    case 1:
      return "dropped before sharing keys";
    case 2:
      return "dropped before masking";
    default:
      return "dropped before unmasking";
  }
}

}  // namespace

SecureRound::SecureRound(secagg::SecAggParams params, msg::SecureAggregationTask task, secagg::UpdateLayout layout,
                         double stage_timeout_s)
    : params_(params),
      task_(std::move(task)),
      layout_(std::move(layout)),
      server_(params, task_.participants),
      stage_timeout_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stage_timeout_s))) {}

Status SecureRound::add_keys(const msg::SecAggStep& step) {
  if (stage_ != 0) return failed_precondition_error("secure aggregation keys arrived after stage 0 ended");
  if (step.keys.size() != 1 || step.keys[0].id != step.client_id)
    return invalid_argument_error("secure aggregation: client " + std::to_string(step.client_id) +
                                  "'s answer must carry exactly its own keys");
  return server_.add_keys(secagg::from_wire(step.keys[0]));
}

void SecureRound::start(Clock::time_point now, const Send& send) {
  if (stage_ == 0) advance(now, send);
}

void SecureRound::advance(Clock::time_point now, const Send& send) {
  // Whoever the ending stage still waited for has dropped out.
  if (stage_ >= 1)
    for (int id : expected_) dropouts_.emplace(id, missed_in(stage_));
  ++stage_;
  deadline_ = now + stage_timeout_;
  expected_.clear();
  // A send that fails loses the process at once, which drops its clients from within send():
  // the stage moves on only after every message of this one went out.
  advancing_ = true;
  switch (stage_) {
    case 1:
      for (int id : server_.advertised()) {
        msg::SecAggStep out;
        out.client_id = id;
        out.stage = 1;
        for (const auto& k : server_.keys_for(id)) out.keys.push_back(secagg::to_wire(k));
        expected_.insert(id);
        send(std::move(out));
      }
      break;
    case 2:
      for (int id : server_.shared()) {
        msg::SecAggStep out;
        out.client_id = id;
        out.stage = 2;
        for (const auto& s : server_.shares_for(id)) out.sealed.push_back(secagg::to_wire(s));
        expected_.insert(id);
        send(std::move(out));
      }
      break;
    case 3: {
      const secagg::UnmaskRequest request = server_.unmask_request();
      // Fewer survivors than the threshold: no client would answer (they refuse), so the round
      // fails at once, in sum().
      if (static_cast<int>(request.survivors.size()) < params_.threshold) {
        stage_ = 4;
        break;
      }
      for (int id : request.survivors) {
        msg::SecAggStep out;
        out.client_id = id;
        out.stage = 3;
        out.survivors = request.survivors;
        out.dropped = request.dropped;
        expected_.insert(id);
        send(std::move(out));
      }
      break;
    }
    default:
      break;
  }
  advancing_ = false;
  maybe_advance(now, send);
}

void SecureRound::maybe_advance(Clock::time_point now, const Send& send) {
  if (!advancing_ && stage_ >= 1 && stage_ <= 3 && expected_.empty()) advance(now, send);
}

Status SecureRound::on_step(const msg::SecAggStep& step, Clock::time_point now, const Send& send) {
  const int id = step.client_id;
  if (step.stage != stage_ || !expected_.count(id))
    return failed_precondition_error("secure aggregation: dropping client " + std::to_string(id) + "'s step of stage " +
                                     std::to_string(step.stage) + " (the round is at stage " + std::to_string(stage_) +
                                     (expected_.count(id) ? ")" : " and expects nothing more from it)"));
  expected_.erase(id);
  Status taken;
  switch (stage_) {
    case 1: {
      std::vector<secagg::SealedShares> sealed = secagg::from_wire(step.sealed);
      taken = server_.add_shares(id, std::move(sealed));
      break;
    }
    case 2: {
      auto words = layout_.from_state(step.masked);
      if (!words.ok()) {
        taken = words.status();
        break;
      }
      if (first_masked_.empty()) first_masked_ = *words;
      taken = server_.add_masked_input({id, std::move(*words)});
      break;
    }
    case 3: {
      auto self_mask = secagg::from_wire(step.self_mask_shares);
      auto mask_key = secagg::from_wire(step.mask_key_shares);
      if (!self_mask.ok()) {
        taken = self_mask.status();
      } else if (!mask_key.ok()) {
        taken = mask_key.status();
      } else {
        taken = server_.add_unmask_shares({id, std::move(*self_mask), std::move(*mask_key)});
        if (taken.ok()) ++unmasked_;
      }
      break;
    }
    default:
      break;
  }
  if (!taken.ok()) dropouts_.emplace(id, std::string(missed_in(stage_ + 1)) + " (" + taken.message() + ")");
  maybe_advance(now, send);
  return taken;
}

void SecureRound::drop(int id, Clock::time_point now, const Send& send) {
  if (stage_ == 0 || stage_ > 3) return;
  if (expected_.erase(id)) dropouts_.emplace(id, missed_in(stage_));
  maybe_advance(now, send);
}

void SecureRound::tick(Clock::time_point now, const Send& send) {
  if (stage_ >= 1 && stage_ <= 3 && now >= deadline_) advance(now, send);
}

void record_secure_round(const SecureRound& secure, double seconds, RoundMetrics& metrics) {
  metrics.policy["secagg_threshold"] = secure.threshold();
  metrics.policy["secagg_neighbours"] = secure.task().neighbours > 0
                                            ? secure.task().neighbours
                                            : static_cast<double>(secure.task().participants.size()) - 1;
  metrics.policy["secagg_advertised"] = secure.advertised();
  metrics.policy["secagg_shared"] = secure.shared();
  metrics.policy["secagg_masked"] = secure.masked();
  metrics.policy["secagg_unmasked"] = secure.unmasked();
  metrics.policy["secagg_fraction_bits"] = secure.task().fraction_bits;
  metrics.policy["secagg_seconds"] = seconds;
}

StatusOr<std::vector<uint64_t>> SecureRound::sum() const {
  if (!finished()) return failed_precondition_error("secure aggregation has not finished");
  const int survivors = masked();
  if (survivors < params_.threshold)
    return failed_precondition_error("secure aggregation failed: " + std::to_string(survivors) +
                                     " client(s) sent a masked input, fewer than the threshold " +
                                     std::to_string(params_.threshold) + " (" + std::to_string(advertised()) +
                                     " advertised keys, " + std::to_string(shared()) + " shared them)");
  return server_.finish();
}

}  // namespace flotilla
