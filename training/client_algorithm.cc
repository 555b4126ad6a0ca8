#include "training/client_algorithm.h"

#include "core/client_half.h"

namespace flotilla {
namespace {

class PlainSgd final : public ClientAlgorithm {
 public:
  Status begin(ClientTask& task) override {
    if (task.server_extras && !task.server_extras->empty())
      return invalid_argument_error(
          "client half '" + std::string(kPlainSgd) + "' takes no extras, but the task carries " +
          std::to_string(task.server_extras->size()) + " (first: '" + (*task.server_extras)[0].name + "')");
    return Status();
  }
  StatusOr<ModelState> finish(ClientTask& task, int64_t steps) override {
    (void)task;
    (void)steps;
    return ModelState();
  }
};

}  // namespace

std::unique_ptr<ClientAlgorithm> make_plain_sgd() { return std::make_unique<PlainSgd>(); }

bool is_plain_sgd(const ClientAlgorithm& algorithm) { return dynamic_cast<const PlainSgd*>(&algorithm) != nullptr; }

}  // namespace flotilla
