// The process-wide ZeroMQ context. inproc:// endpoints only connect sockets of one context, and
// the ZAP handler (zap_authenticator.h) must live in the context of the sockets it authenticates,
// so every channel and the authenticator take their sockets from this one context. It is the
// context's only owner; the channels and the authenticator both depend on it, not on each other.
#pragma once

namespace zmq {
class context_t;
}

namespace flotilla {

// Created on first use and never destroyed: sockets may outlive main.
zmq::context_t& shared_zmq_context();
// The same context as libzmq's raw handle (zmq_socket(), zmq_ctx_term()).
void* zmq_context();

}  // namespace flotilla
