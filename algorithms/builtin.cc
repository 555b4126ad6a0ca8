#include "algorithms/builtin.h"

#include "algorithms/fed_dyn.h"
#include "algorithms/fed_nova.h"
#include "algorithms/fed_prox.h"
#include "algorithms/moon.h"
#include "algorithms/scaffold.h"
#include "core/client_half.h"

namespace flotilla {

Status register_builtin_algorithms(AggregatorRegistry& aggregators) {
  for (auto entry : {fedprox_server_entry(), scaffold_server_entry(), fednova_server_entry(), feddyn_server_entry(),
                     moon_server_entry()})
    RETURN_IF_ERROR(aggregators.add(std::move(entry)));
  return Status();
}

Status register_builtin_client_algorithms(ClientAlgorithmRegistry& client_algorithms) {
  RETURN_IF_ERROR(client_algorithms.add(
      {kPlainSgd,
       "plain local SGD (momentum, weight decay, --prox-mu)",
       {},
       [](const Options&) -> StatusOr<std::unique_ptr<ClientAlgorithm>> { return make_plain_sgd(); }}));
  for (auto entry : {fedprox_client_entry(), scaffold_client_entry(), fednova_client_entry(), feddyn_client_entry(),
                     moon_client_entry()})
    RETURN_IF_ERROR(client_algorithms.add(std::move(entry)));
  return Status();
}

}  // namespace flotilla
