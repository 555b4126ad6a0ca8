// MOON (Li, He, Song, CVPR 2021): model-contrastive learning. Each step the client pulls its
// representation of the batch toward the global model's and pushes it from its own previous local
// model's:
//   l_con = -log( exp(sim(z, z_glob)/tau) / (exp(sim(z, z_glob)/tau) + exp(sim(z, z_prev)/tau)) )
// with sim the cosine similarity, and adds mu * l_con to the cross-entropy. The representation is
// Model::features (the penultimate layer), not a separate projection head as in the paper's
// ResNet experiments: every model here has one, and no architecture needs changing. Before a
// client's first task the previous model is the global one (as MOON's code does). The server
// averages as FedAvg. Both halves are registered under "moon".
#pragma once

#include "aggregators/aggregator.h"
#include "training/client_algorithm.h"

namespace flotilla {

// The name both halves register under (--aggregator moon).
inline constexpr const char* kMoonName = "moon";

AggregatorRegistry::Entry moon_server_entry();
ClientAlgorithmRegistry::Entry moon_client_entry();

}  // namespace flotilla
