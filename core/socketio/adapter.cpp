#include "socketio/adapter.hpp"

#include <ctime>

#include "socketio/json_text.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::socketio {
namespace {

void append_member(std::string& out, std::string_view name, std::string_view value) {
  json::append_string(out, name);
  out += ':';
  json::append_string(out, value);
}

// As JavaScript's Date.prototype.toString() in UTC.
std::string js_date(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::size_t n = std::strftime(buf, sizeof buf,
                                "%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)", &tm);
  return std::string(buf, n);
}

// socket.io's handshake: headers, time, address, xdomain, secure, issued,
// url, query, auth.
std::string handshake_json(const Socket& socket) {
  const engineio::Handshake& h = socket.handshake();
  std::string out = "{\"headers\":{";
  for (std::size_t i = 0; i < h.headers().size(); ++i) {
    if (i) out += ',';
    auto [name, value] = h.headers().at(i);
    append_member(out, name, value);
  }
  out += "},\"time\":";
  json::append_string(out, js_date(h.issued_unix_ms));
  out += ',';
  append_member(out, "address", h.address());
  out += h.header("origin") ? ",\"xdomain\":true" : ",\"xdomain\":false";
  out += h.secure ? ",\"secure\":true" : ",\"secure\":false";
  out += ",\"issued\":" + std::to_string(h.issued_unix_ms) + ",";
  append_member(out, "url", h.url());
  out += ",\"query\":{";
  for (std::size_t i = 0; i < h.query().size(); ++i) {
    if (i) out += ',';
    auto [name, value] = h.query().at(i);
    append_member(out, name, value);
  }
  out += "},\"auth\":";
  out += socket.auth().empty() ? std::string_view("{}") : socket.auth();
  out += '}';
  return out;
}

}  // namespace

RemoteSocket describe_socket(const Socket& socket) {
  RemoteSocket r;
  r.id = std::string(socket.id());
  r.rooms = socket.rooms();
  r.handshake_json = handshake_json(socket);
  r.data_json = socket.data().empty() ? "{}" : socket.data();
  if (const auto& hook = socket.nsp().server().describe_hook()) hook(socket, r);
  return r;
}

void Adapter::fetch_sockets_async(const BroadcastOptions& opts, FetchSocketsCallback callback) {
  std::vector<RemoteSocket> out;
  for (Socket* s : fetch_sockets(opts)) out.push_back(describe_socket(*s));
  callback(std::move(out), true);
}

void Adapter::all_rooms_async(RoomsCallback callback) {
  callback({}, true);
}

void Adapter::server_side_emit(std::string_view, std::string_view,
                               ServerSideEmitCallback callback) {
  if (callback) callback({}, true);
}

}  // namespace daheim::socketio
