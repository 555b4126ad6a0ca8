// ClientHalf: which client half of an algorithm a round task runs (training/client_algorithm.h),
// by registry name and options. The server half chooses it (Aggregator::client_half()); the
// coordinator sends it with every task; the client builds it from its own registry, so a client
// without the plugin that defines it refuses the task naming it.
#pragma once

#include <map>
#include <string>

namespace flotilla {

// Plain local SGD (momentum, weight decay, TrainConfig::prox_mu): what FedAvg and every
// server-only rule run.
inline constexpr const char* kPlainSgd = "sgd";

struct ClientHalf {
  std::string name = kPlainSgd;
  std::map<std::string, std::string> options;  // as the client half's registry entry documents them

  bool operator==(const ClientHalf&) const = default;
};

}  // namespace flotilla
