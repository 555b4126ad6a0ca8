// SCAFFOLD (Karimireddy et al., ICML 2020), option II: control variates correct client drift. The
// server keeps c (one tensor per trainable parameter) and sends it with every task; each client
// keeps its own c_i across rounds, steps with g + c - c_i (the correction applied after each
// optimizer step, outside its momentum, as NIID-Bench and Flower do), and sends back
// delta_c = c_i+ - c_i with
//   c_i+ = c_i - c + (x - y) / (K * lr)
// (x the global model, y the trained one, K local steps). The server moves
//   x <- x + eta_g * sum_i p_i (y_i - x),   c <- c + (1/N) sum_{i in S} delta_c_i
// with p_i the sample weights (as FedAvg) and N all clients of the federation. With momentum the
// paper's K * lr is kept as the step size (as NIID-Bench does), though the effective step is larger.
// As in the paper (and NIID-Bench), c is a uniform mean over the clients while the model step is
// sample-weighted: with unequal client sizes the fixed point minimises the clients' unweighted
// mean objective, not the sample-weighted one (tests/algorithms/least_squares_algorithms_test.cc).
// Both halves are registered under "scaffold".
#pragma once

#include "aggregators/aggregator.h"
#include "training/client_algorithm.h"

namespace flotilla {

// The name both halves register under (--aggregator scaffold).
inline constexpr const char* kScaffoldName = "scaffold";

AggregatorRegistry::Entry scaffold_server_entry();
ClientAlgorithmRegistry::Entry scaffold_client_entry();

}  // namespace flotilla
