#include "transport/zmq/zmq_context.h"

#include <zmq.hpp>

namespace flotilla {

zmq::context_t& shared_zmq_context() {
  static zmq::context_t* const context = new zmq::context_t(1);
  return *context;
}

void* zmq_context() { return shared_zmq_context().handle(); }

}  // namespace flotilla
