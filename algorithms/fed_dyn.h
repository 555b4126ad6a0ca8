// FedDyn (Acar et al., ICLR 2021): dynamic regularisation, so that the clients' stationary points
// agree with the global one however heterogeneous the data. Client i keeps g_i (the gradient of
// its loss at its last local model; zeros at first) and minimises
//   L_i(theta) - <g_i, theta> + alpha/2 ||theta - theta_prev||^2,
// then g_i <- g_i - alpha (theta_i - theta_prev). The server keeps h (zeros at first):
//   h <- h - alpha (1/N) sum_{i in P} (theta_i - theta_prev)
//   theta <- (1/|P|) sum_{i in P} theta_i - h / alpha
// for the trainable parameters (a plain mean, as in the paper); buffers get the sample-weighted
// mean. Like SCAFFOLD's, the fixed point minimises the clients' unweighted mean objective. Both
// halves are registered under "feddyn".
#pragma once

#include "aggregators/aggregator.h"
#include "training/client_algorithm.h"

namespace flotilla {

// The name both halves register under (--aggregator feddyn).
inline constexpr const char* kFedDynName = "feddyn";

AggregatorRegistry::Entry feddyn_server_entry();
ClientAlgorithmRegistry::Entry feddyn_client_entry();

// The alpha option both halves take.
OptionSpec feddyn_alpha_option();

}  // namespace flotilla
