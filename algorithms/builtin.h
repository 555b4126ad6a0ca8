// The built-in algorithms that change the client too, both halves of each: FedProx, SCAFFOLD,
// FedNova, FedDyn and MOON (docs/algorithms.md). The server halves join the aggregator registry
// (so --aggregator scaffold picks the whole algorithm), the client halves the client-half registry.
#pragma once

#include "aggregators/aggregator.h"
#include "core/status.h"
#include "training/client_algorithm.h"

namespace flotilla {

// Adds the server halves to `aggregators`.
Status register_builtin_algorithms(AggregatorRegistry& aggregators);

// Adds "sgd" (plain local SGD) and the client halves of the built-in algorithms.
Status register_builtin_client_algorithms(ClientAlgorithmRegistry& client_algorithms);

}  // namespace flotilla
