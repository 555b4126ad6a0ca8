// FedNova (Wang et al., NeurIPS 2020): normalised averaging. Clients that take more local steps
// move further; plain FedAvg then leans toward them (objective inconsistency). Each client reports
// a_i, the norm of its local step coefficients (tau for plain SGD; with momentum rho
// a_i = (tau - rho (1 - rho^tau) / (1 - rho)) / (1 - rho)), and the server averages the
// normalised updates d_i = (x - y_i) / a_i, then steps by the effective tau_eff = sum_i p_i a_i:
//   x <- x - server_lr * tau_eff * sum_i p_i d_i,   p_i = n_i / sum_j n_j,
// n_i the client's samples, or with the option weights=steps its local steps (NIID-Bench weighs by
// the batches of an epoch, which the steps are proportional to when every client runs E epochs).
// Weight decay and the proximal term are not in a_i (FedNova's paper treats them apart).
// Both halves are registered under "fednova"; the extra is "fednova/a", a 0-dim float64 tensor.
#pragma once

#include <cstdint>

#include "aggregators/aggregator.h"
#include "training/client_algorithm.h"

namespace flotilla {

// The name both halves register under (--aggregator fednova).
inline constexpr const char* kFedNovaName = "fednova";

// a_i for `steps` local steps of SGD with momentum `rho` (0 <= rho < 1).
double fednova_step_norm(int64_t steps, double rho);

AggregatorRegistry::Entry fednova_server_entry();
ClientAlgorithmRegistry::Entry fednova_client_entry();

}  // namespace flotilla
