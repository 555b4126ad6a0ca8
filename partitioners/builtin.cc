#include "partitioners/dirichlet.h"
#include "partitioners/iid.h"

namespace flotilla {

Status register_builtin_partitioners(PartitionerRegistry& registry) {
  RETURN_IF_ERROR(registry.add(IidPartitioner::registry_entry()));
  RETURN_IF_ERROR(registry.add(DirichletPartitioner::registry_entry()));
  return Status();
}

}  // namespace flotilla
