// The JSON the admin UI (@socket.io/admin-ui 0.5) reads: the config, the
// server stats, sockets as the UI lists them, dates as JavaScript's
// Date.prototype.toJSON writes them. Pure: data in, text out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/adapter.hpp"

namespace daheim::admin {

// "2026-12-07T06:47:06.123Z".
std::string iso_date(int64_t unix_ms);

// {"supportedFeatures":[...]}: the commands unless read-only, then
// AGGREGATED_EVENTS, and ALL_EVENTS in development mode.
std::string config_json(bool readonly, bool development);

struct NamespaceCount {
  std::string name;
  std::size_t sockets = 0;
};
struct AggregatedEvent {
  int64_t timestamp = 0;  // ms, a whole second
  std::string type;       // rawConnection, rawDisconnection, packetsIn, ...
  std::string sub_type;   // empty: none (rawDisconnection: the reason)
  uint64_t count = 0;
};
struct ServerStats {
  std::string server_id;
  std::string hostname;
  long pid = 0;
  double uptime = 0;  // seconds
  std::size_t clients = 0;
  std::size_t polling_clients = 0;
  std::vector<AggregatedEvent> events;
  std::vector<NamespaceCount> namespaces;
};
std::string server_stats_json(const ServerStats& stats);

// The UI's SerializedSocket for a socket of `nsp` as fetch_sockets reports
// it: clientId and transport come from its data's "_admin" member (which
// is not shown with the data); the handshake keeps what the UI shows
// (address, headers, query, issued, secure, time, url, xdomain), never the
// auth payload, and the address is the first of cf-connecting-ip,
// x-forwarded-for and the peer's. Tokens are not shown: an access_token
// query parameter (also in the url) and an authorization header read
// "[redacted]".
std::string serialize_socket(const socketio::RemoteSocket& socket, std::string_view nsp);

// The "_admin" member the UI's server side adds to socket.data:
// {"_admin":{"clientId":<first 12 of the Engine.IO id>,"transport":...},...data}.
std::string data_with_admin(std::string_view data_json, std::string_view engine_id,
                            std::string_view transport);

// The handshake JSON with an empty "auth": what other nodes (fetchSockets)
// learn of an admin socket, whose CONNECT payload holds the password.
std::string without_auth(std::string_view handshake_json);

// Event arguments ["name", ...args] from the name and the JSON array text
// of the arguments (empty: none).
std::string event_with_name(std::string_view name, std::string_view args);

}  // namespace daheim::admin
