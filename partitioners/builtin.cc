#include "partitioners/dirichlet.h"
#include "partitioners/iid.h"
#include "partitioners/inner_dirichlet.h"
#include "partitioners/label_split.h"
#include "partitioners/quantity_skew.h"
#include "partitioners/shards.h"

namespace flotilla {

Status register_builtin_partitioners(PartitionerRegistry& registry) {
  RETURN_IF_ERROR(registry.add(IidPartitioner::registry_entry()));
  RETURN_IF_ERROR(registry.add(DirichletPartitioner::registry_entry()));
  RETURN_IF_ERROR(registry.add(ShardsPartitioner::registry_entry()));
  RETURN_IF_ERROR(registry.add(LabelSplitPartitioner::registry_entry()));
  RETURN_IF_ERROR(registry.add(QuantitySkewPartitioner::registry_entry()));
  RETURN_IF_ERROR(registry.add(InnerDirichletPartitioner::registry_entry()));
  return Status();
}

}  // namespace flotilla
