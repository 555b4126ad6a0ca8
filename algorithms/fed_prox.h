// FedProx (Li et al., MLSys 2020): each client minimises its loss plus mu/2 ||w - w_global||^2, so
// local models drift less from the global one on heterogeneous data; the server averages them as
// FedAvg does. Both halves are registered under "fedprox".
#pragma once

#include "aggregators/aggregator.h"
#include "training/client_algorithm.h"

namespace flotilla {

// The name both halves register under (--aggregator fedprox).
inline constexpr const char* kFedProxName = "fedprox";

AggregatorRegistry::Entry fedprox_server_entry();
ClientAlgorithmRegistry::Entry fedprox_client_entry();

}  // namespace flotilla
