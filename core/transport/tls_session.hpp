// How a TLS listener's connections use memory and resume: OpenSSL releases a
// connection's record buffers while it is idle, and a returning client may
// resume its session (ticket or session ID) instead of a full handshake.
#pragma once

#include "transport/listener.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace daheim::transport {

// Applies the listener's session options to its SSL_CTX (before any
// handshake). Returns false when OpenSSL refuses one of them.
bool configure_tls_sessions(ssl_ctx_st* ctx, const ListenerOptions& options);

}  // namespace daheim::transport
