// What one round measured: per client (traffic, samples, loss, time, divergence) and for the
// round (test accuracy, totals, where the wall time went, the model's digest).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flotilla {

struct ClientRoundMetrics {
  int client_id = -1;
  // "ok", "timeout" (no answer within --round-timeout), "lost: <why>" (its process died or went
  // silent), "error: <message>" (it reported one, or its update was rejected).
  std::string status = "ok";
  // Bytes on the wire (ZMTP framing and CURVE encryption included; connection handshakes not):
  int64_t bytes_sent = 0;      // the round task sent to it
  int64_t bytes_received = 0;  // its update
  int64_t num_samples = 0;
  double train_loss = 0.0;
  double train_seconds = 0.0;  // local training, as the client measured it
  double total_seconds = 0.0;  // on the client, task received to update sent
  int64_t local_steps = 0;     // optimizer steps of local training
  double divergence_to_previous = 0.0;
  double divergence_to_new = 0.0;
  double cosine_to_update = 0.0;
  std::map<std::string, double> extra;  // client-reported metrics (local accuracies)
  // What the training policy measured of this client's update beyond the above: asynchronous
  // staleness, base version, weight; a collective's bytes to peers. Empty in sync star rounds.
  std::map<std::string, double> policy;
  std::vector<int64_t> label_histogram;  // samples of each class in the client's partition
};

// One client's evaluation of a round's global model on its own test data (federated evaluation).
struct ClientEvalMetrics {
  int client_id = -1;
  std::string status = "ok";  // as ClientRoundMetrics::status: ok | timeout | lost: <why> | error: <message>
  int64_t num_samples = 0;
  double loss = 0.0;
  double accuracy = 0.0;
  // Per class; empty when the site withholds its label counts.
  std::vector<int64_t> class_total;
  std::vector<int64_t> class_correct;
  int64_t bytes_received = 0;  // its result on the wire
};

// The federated evaluation of a round: per client, and the sample-weighted means over those that
// answered (a client's loss and accuracy count in proportion to its test samples).
struct FederatedEvalMetrics {
  std::vector<ClientEvalMetrics> clients;  // one per client asked, by id
  int answered = 0;
  int64_t num_samples = 0;  // summed over answering clients
  double loss = 0.0;
  double accuracy = 0.0;
  int64_t bytes_sent = 0;  // the evaluation tasks on the wire (one per process)
  double seconds = 0.0;    // from sending the tasks to the last answer (or the timeout)
};

struct RoundMetrics {
  int round = 0;
  std::string status = "ok";                // "ok" or "failed: <reason>"
  std::vector<int> sampled;                 // every client sent a task this round, replacements included
  int lost = 0;                             // sampled clients whose process was lost during the round
  std::vector<ClientRoundMetrics> clients;  // one per sampled client, by id
  int answered = 0;
  int64_t bytes_sent = 0;  // what each client's task would have moved alone, summed
  int64_t bytes_received = 0;
  // What the tasks did move: one message per process, whatever its number of logical clients.
  int64_t wire_bytes_sent = 0;
  // Upload flow control (--upload-memory): the most update bytes granted and in transit at once,
  // and the most finished clients waiting for their turn at once.
  int64_t upload_peak_bytes = 0;
  int64_t uploads_waiting_peak = 0;
  double mean_train_loss = 0.0;
  double mean_divergence = 0.0;  // mean of divergence_to_previous over answering clients
  double max_divergence = 0.0;
  // Of the global model after this round; NaN (null in metrics.jsonl) for rounds --eval-every
  // skips.
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  std::vector<double> class_accuracy;
  // "streaming": updates were folded in as they arrived (the rule is a sum); "whole round": kept
  // until the round ended (median, Krum...).
  std::string aggregation = "whole round";
  // Elements whose streaming sum could not be kept exact (then the model may depend on the
  // arrival order in its last bit); 0 normally.
  int64_t inexact_elements = 0;
  double wait_seconds = 0.0;       // from sending tasks to the last update (or the timeout)
  double fold_seconds = 0.0;       // folding updates in as they arrived (within wait_seconds)
  double aggregate_seconds = 0.0;  // after the last update: aggregation and divergence metrics
  double eval_seconds = 0.0;       // evaluation, on its own thread while the next round ran
  double round_seconds = 0.0;      // from sending tasks to the new model (evaluation not included)
  std::string model_sha256;        // of the global model after this round
  // The training policy's own measurements of the round: asynchronous staleness and virtual time,
  // a decentralised round's peer traffic and consensus distance. Empty in sync star rounds.
  std::map<std::string, double> policy;
  // Clients' evaluation of this round's model on their own test data; absent when the round was
  // not evaluated so (--federated-eval off, or a round --eval-every skips).
  std::optional<FederatedEvalMetrics> federated;
  double finished_unix = 0.0;  // wall-clock time the round ended (seconds since the epoch)
};

}  // namespace flotilla
