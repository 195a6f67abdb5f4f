#include "transport/tls_session.hpp"

#include <openssl/ssl.h>

namespace daheim::transport {
namespace {

// Sessions of one listener are not offered to another (a session ID or a
// ticket names the context it came from).
constexpr unsigned char kSessionContext[] = "daheim-live";

}  // namespace

bool configure_tls_sessions(ssl_ctx_st* ctx, const ListenerOptions& o) {
  // An idle connection gives its read and write buffers (~34 KB) back;
  // lws sets the same on each connection, this makes it the listener's rule.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) != 1)
    return false;
  if (o.tls_session_tickets)
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  else
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // TLS 1.3 without stateless tickets issues stateful ones: they need the
  // cache, so with neither nothing is issued.
  bool resume = o.tls_session_tickets || o.tls_session_cache_size > 0;
  if (!SSL_CTX_set_num_tickets(ctx, resume ? 2 : 0)) return false;
  SSL_CTX_set_session_cache_mode(
      ctx, o.tls_session_cache_size > 0 ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
  // OpenSSL reads a size of 0 as "no limit": only a positive one is set.
  if (o.tls_session_cache_size > 0) SSL_CTX_sess_set_cache_size(ctx, o.tls_session_cache_size);
  SSL_CTX_set_timeout(ctx, o.tls_session_timeout);
  return true;
}

}  // namespace daheim::transport
