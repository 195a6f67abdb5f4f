// One listening address of the server: where it binds, whether it speaks
// TLS, and which of the server's services it answers (the others get 404).
#pragma once

#include <string>
#include <string_view>

namespace daheim::transport {

// What a listener serves, as bits.
enum Service : unsigned {
  kServiceSocketIo = 1u << 0,  // the Engine.IO path (HTTP long-polling and WebSocket)
  kServiceDemo = 1u << 1,      // the demo page and the client script
  kServiceMetrics = 1u << 2,   // /metrics and /healthz
  kServicePlugins = 1u << 3,   // HTTP routes added by plugins (push ingress)
  kServiceAdmin = 1u << 4,     // the admin UI's files (admin.uiPath)
  kServiceAll = (1u << 5) - 1,
};

struct ListenerOptions {
  std::string host = "127.0.0.1";
  int port = 3000;  // 0: any free port
  // PEM files; both empty: plain HTTP. The certificate file may hold the
  // chain after the leaf.
  std::string tls_cert;
  std::string tls_key;
  // TLS session resumption (a returning client skips the key exchange and
  // the certificate). Tickets: stateless, the keys live in this process
  // (rotated by OpenSSL, lost on restart). The cache: sessions kept here for
  // clients resuming by session ID (TLS 1.2 without tickets); 0 turns it off.
  bool tls_session_tickets = true;
  int tls_session_cache_size = 20480;
  int tls_session_timeout = 7200;  // seconds a session can be resumed
  unsigned services = kServiceAll;
  // A listening socket inherited from systemd (socket activation); -1: bind
  // host:port ourselves.
  int inherited_fd = -1;

  bool tls() const { return !tls_cert.empty(); }
};

// "socketio" -> kServiceSocketIo and so on; 0 for an unknown name.
unsigned service_named(std::string_view name);
// "socketio, demo" for kServiceSocketIo | kServiceDemo.
std::string service_names(unsigned services);

}  // namespace daheim::transport
