#include "client/secure_aggregation_member.h"

#include <cstdlib>

#include "core/log.h"
#include "privacy/gaussian_noise.h"
#include "secagg/wire.h"

namespace flotilla {

bool SecureAggregationMember::drops_out(int client_id, int round, int stage) const {
  if ((dropout_.round != round && dropout_.round != SecAggDropout::kEveryRound) || dropout_.stage != stage)
    return false;
  FLOTILLA_LOG(Warning) << "client " << client_id << " drops out of round " << round
                        << "'s secure aggregation at stage " << stage << " (--secagg-dropout"
                        << (dropout_.exit ? ": the process exits)" : ")");
  if (dropout_.exit) std::_Exit(137);
  return true;
}

StatusOr<std::optional<msg::SecAggStep>> SecureAggregationMember::begin(const msg::RoundTask& task, int client_id,
                                                                        const ModelState& trained,
                                                                        const ModelState& extras, int64_t num_samples,
                                                                        msg::SecAggReport report) {
  const msg::SecureAggregationTask& s = task.secure_aggregation;
  sessions_.erase(client_id);
  uint64_t noise_seed = 0;
  if (s.noise_stddev > 0 || s.count_noise_stddev > 0) {
    ASSIGN_OR_RETURN(noise_seed, secret_seed());
  }
  ASSIGN_OR_RETURN(secagg::EncodedUpdate encoded,
                   secagg::encode_update(task.state, trained, extras, num_samples, s, noise_seed));
  secagg::UpdateLayout layout(task.state, s.extras_bound > 0 ? extras : ModelState(), s.report_unclipped);
  secagg::SecAggParams params{task.round, s.threshold, static_cast<size_t>(layout.length()), s.neighbours,
                              s.graph_seed};
  Session session{task.task_id, task.round, secagg::SecAggClient(client_id, params), std::move(layout),
                  std::move(encoded.words)};
  ASSIGN_OR_RETURN(secagg::AdvertisedKeys keys, session.protocol.advertise());
  sessions_.emplace(client_id, std::move(session));
  if (drops_out(client_id, task.round, 0)) return std::nullopt;
  msg::SecAggStep out;
  out.round = task.round;
  out.task_id = task.task_id;
  out.client_id = client_id;
  out.stage = 0;
  out.keys.push_back(secagg::to_wire(keys));
  report.update_norm = encoded.norm;
  out.report = std::move(report);
  return out;
}

StatusOr<std::optional<msg::SecAggStep>> SecureAggregationMember::answer(const msg::SecAggStep& step) {
  auto found = sessions_.find(step.client_id);
  if (found == sessions_.end() || found->second.task_id != step.task_id)
    return failed_precondition_error("secure aggregation step for client " + std::to_string(step.client_id) +
                                     " of a round it takes no part in here");
  Session& session = found->second;
  if (drops_out(step.client_id, session.round, step.stage)) return std::nullopt;
  msg::SecAggStep out;
  out.round = session.round;
  out.task_id = session.task_id;
  out.client_id = step.client_id;
  out.stage = step.stage;
  switch (step.stage) {
    case 1: {
      ASSIGN_OR_RETURN(std::vector<secagg::SealedShares> sealed,
                       session.protocol.share_keys(secagg::from_wire(step.keys)));
      for (const auto& s : sealed) out.sealed.push_back(secagg::to_wire(s));
      break;
    }
    case 2: {
      ASSIGN_OR_RETURN(secagg::MaskedInput masked,
                       session.protocol.mask(secagg::from_wire(step.sealed), session.words));
      out.masked = session.layout.to_state(masked.words);
      session.words.clear();
      session.words.shrink_to_fit();
      break;
    }
    case 3: {
      ASSIGN_OR_RETURN(secagg::UnmaskShares shares, session.protocol.unmask({step.survivors, step.dropped}));
      out.self_mask_shares = secagg::to_wire(shares.self_mask_shares);
      out.mask_key_shares = secagg::to_wire(shares.mask_key_shares);
      break;
    }
    default:
      return invalid_argument_error("secure aggregation step of stage " + std::to_string(step.stage) +
                                    " sent to a client");
  }
  return out;
}

}  // namespace flotilla
