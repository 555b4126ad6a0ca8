#include "algorithms/builtin.h"

#include "core/client_half.h"

namespace flotilla {

Status register_builtin_algorithms(AggregatorRegistry& aggregators) {
  (void)aggregators;
  return Status();
}

Status register_builtin_client_algorithms(ClientAlgorithmRegistry& client_algorithms) {
  return client_algorithms.add({kPlainSgd, "plain local SGD (momentum, weight decay, --prox-mu)", {},
                                [](const Options&) -> StatusOr<std::unique_ptr<ClientAlgorithm>> {
                                  return make_plain_sgd();
                                }});
}

}  // namespace flotilla
