// The socket.io-client end-to-end fixture (tests/e2e/socketio*.test.mjs).
//
// A test client drives the server with commands: events whose first argument
// holds the command's options; "...args" are the remaining arguments, passed
// on byte for byte with their binary attachments. "-> ack(x)" is the answer
// to the client's ack callback (none when the client asked for none).
//
// On connection every socket is sent, in this order:
//   auth   <the CONNECT payload, {} when none>
//   hello  {"id", "nsp", "engine" (Engine.IO sid), "transport"}
//
// Commands:
//   echo ...args                 -> ack(...args)
//   echo-event ...args           emits `echo-event` ...args back
//   whoami                       -> ack(the `hello` object, transport as of now)
//   join [rooms] / leave [rooms] -> ack([the socket's rooms afterwards])
//   rooms                        -> ack([the socket's rooms])
//   broadcast spec|[spec, ...] ...args
//       -> ack([one bool per spec: what the emit call returned])
//       Runs each spec in order within one event-loop turn. spec:
//       {event, args?, rooms?, except?, volatile?, exceptSelf?, self?}.
//       args: a JSON array; absent = the command's ...args (binary included).
//       self: this socket only (Socket::emit / emit_volatile); exceptSelf:
//       Socket::broadcast (socket.to(...).emit); else Namespace::emit_to.
//   emit-with-ack {event, timeoutMs, count?} ...args -> ack(how many were sent)
//       Socket::emit_with_ack `count` times (default 1); every outcome comes
//       back as the event `ack-result` timedOut ...answer (binary included).
//   broadcast-with-ack {event, timeoutMs, rooms?, except?, exceptSelf?} ...args
//       -> ack(sent); Namespace::emit_with_ack, whose outcome comes back as
//       `broadcast-ack-result` timedOut [answer args]... (text answers only:
//       binary attachments of answers are not forwarded).
//   disconnect-me {close}        Socket::disconnect(close)
//   close-transport              closes the Engine.IO connection (socket.conn.close())
//   disconnect-reason "id"       -> ack(why socket `id` left, or null)
//   handshake                    -> ack(socket.io's handshake object of the socket)
// Cluster-wide (Namespace / Adapter; a single node answers alone):
//   fetch-sockets {rooms?, except?} -> ack({sockets: [{id, rooms, handshake}], complete})
//   all-rooms                    -> ack({rooms, complete})
//   sockets-join / sockets-leave {rooms?, except?} [rooms] -> ack(true)
//   disconnect-sockets {rooms?, except?} close -> ack(true)
//   server-side-emit {event, ack?} ...args -> ack(sent); with ack, the event
//       `server-side-result` complete [answers] follows.
// A server-side event from another node is emitted to this node's own
// sockets (flag local) as `server-side` event ...args, and acked with
// {"pong": <first argument>}.
// Anything else is ignored (and so never acked: the client's timeouts).
#include "testing/e2e_handlers.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engineio/handler.hpp"
#include "socketio/adapter.hpp"
#include "socketio/json_text.hpp"
#include "socketio/namespace.hpp"
#include "socketio/socket.hpp"

namespace daheim::testing {
namespace {

namespace json = socketio::json;
using socketio::Event;
using socketio::Socket;

// JSON in (cJSON).

using Json = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

Json parse(std::string_view text) {
  return Json(text.empty() ? nullptr : cJSON_ParseWithLength(text.data(), text.size()),
              cJSON_Delete);
}

const cJSON* member(const cJSON* obj, const char* key) {
  return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : nullptr;
}

std::string string_of(const cJSON* obj, const char* key) {
  const cJSON* v = member(obj, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

bool bool_of(const cJSON* obj, const char* key) {
  return cJSON_IsTrue(member(obj, key));
}

long long int_of(const cJSON* obj, const char* key, long long fallback) {
  const cJSON* v = member(obj, key);
  return cJSON_IsNumber(v) ? static_cast<long long>(v->valuedouble) : fallback;
}

// A string or an array of strings.
std::vector<std::string> strings_of(const cJSON* v) {
  std::vector<std::string> out;
  if (cJSON_IsString(v)) out.emplace_back(v->valuestring);
  if (!cJSON_IsArray(v)) return out;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, v) {
    if (cJSON_IsString(item)) out.emplace_back(item->valuestring);
  }
  return out;
}

socketio::BroadcastOptions broadcast_options(const cJSON* spec) {
  socketio::BroadcastOptions opts;
  opts.rooms = strings_of(member(spec, "rooms"));
  opts.except = strings_of(member(spec, "except"));
  opts.flags.volatile_ = bool_of(spec, "volatile");
  return opts;
}

// JSON out.

// An event's arguments split into the first one (the command's options) and
// the others, as the JSON text of an array.
struct SplitArgs {
  std::string_view first;  // empty when there are no arguments
  std::string rest = "[]";
};

SplitArgs split(std::string_view args) {
  SplitArgs out;
  json::Shape shape;
  if (json::scan(args, shape) != json::ScanError::None || shape.kind != json::Kind::Array ||
      shape.first == json::Kind::None)
    return out;
  out.first = args.substr(shape.first_begin, shape.first_end - shape.first_begin);
  out.rest = "[" + std::string(args.substr(shape.rest, shape.end - shape.rest));
  return out;
}

// The argument array `args` with `value` (JSON text) put in front.
std::string prepend(std::string_view value, std::string_view args) {
  std::string out = "[" + std::string(value);
  json::Shape shape;
  if (json::scan(args, shape) == json::ScanError::None && shape.kind == json::Kind::Array &&
      shape.first != json::Kind::None) {
    out += ',';
    out.append(args.substr(shape.first_begin, shape.end - shape.first_begin));  // up to "]"
  } else {
    out += ']';
  }
  return out;
}

std::string json_quote(std::string_view s) {
  std::string out;
  json::append_string(out, s);
  return out;
}

std::string string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& s : items) {
    if (out.size() > 1) out += ',';
    json::append_string(out, s);
  }
  return out + "]";
}

// {"id","nsp","engine","transport"}
std::string identity(const Socket& s) {
  std::string out = "{\"id\":";
  json::append_string(out, s.id());
  out += ",\"nsp\":";
  json::append_string(out, s.nsp().name());
  out += ",\"engine\":";
  json::append_string(out, s.connection().id());
  out += ",\"transport\":";
  json::append_string(out, engineio::to_string(s.connection().transport()));
  return out + "}";
}

// The commands.

// Why each socket left, by socket id (unique across namespaces, so that a
// client can ask on another namespace of the same connection, whose packets
// the server handles in order). Bounded: the suite asks about recent sockets.
using Reasons = std::unordered_map<std::string, std::string>;
constexpr std::size_t kMaxReasons = 10000;

void reply(Socket& s, const Event& e, std::string_view args,
           std::span<const std::string> attachments = {}) {
  if (e.ack_id) s.ack(*e.ack_id, args, attachments);
}

void broadcast(Socket& s, Event& e, const SplitArgs& args) {
  Json parsed = parse(args.first);
  std::vector<const cJSON*> specs;
  if (cJSON_IsArray(parsed.get())) {
    const cJSON* item = nullptr;
    cJSON_ArrayForEach(item, parsed.get()) specs.push_back(item);
  } else {
    specs.push_back(parsed.get());
  }
  std::string results;  // "true,false,..."
  for (const cJSON* spec : specs) {
    std::string event = string_of(spec, "event");
    const cJSON* own = member(spec, "args");
    std::string own_args;
    if (own != nullptr) {
      char* text = cJSON_PrintUnformatted(own);
      own_args = text != nullptr ? text : "";
      cJSON_free(text);
    }
    std::string_view spec_args = own != nullptr ? std::string_view(own_args) : args.rest;
    std::span<const std::string> attachments;
    if (own == nullptr) attachments = e.attachments;
    socketio::BroadcastOptions opts = broadcast_options(spec);
    bool ok;
    if (bool_of(spec, "self"))
      ok = opts.flags.volatile_ ? s.emit_volatile(event, spec_args, attachments)
                                : s.emit(event, spec_args, attachments);
    else if (bool_of(spec, "exceptSelf"))
      ok = s.broadcast(std::move(opts), event, spec_args, attachments);
    else
      ok = s.nsp().emit_to(opts, event, spec_args, attachments);
    if (!results.empty()) results += ',';
    results += ok ? "true" : "false";
  }
  reply(s, e, "[[" + results + "]]");
}

void emit_with_ack(Socket& s, Event& e, const SplitArgs& args) {
  Json opts = parse(args.first);
  long long count = std::clamp(int_of(opts.get(), "count", 1), 0LL, 100000LL);
  std::string event = string_of(opts.get(), "event");
  loop::Millis timeout(int_of(opts.get(), "timeoutMs", 5000));
  // The callback may run after this turn: find the socket again by id.
  socketio::Namespace& nsp = s.nsp();
  std::string id(s.id());
  auto report = [&nsp, id](bool timed_out, std::string_view answer,
                           std::vector<std::string>& attachments) {
    if (Socket* target = nsp.socket(id))
      target->emit("ack-result", prepend(timed_out ? "true" : "false", answer), attachments);
  };
  long long sent = 0;
  for (long long i = 0; i < count; ++i)
    if (s.emit_with_ack(event, args.rest, e.attachments, timeout, report)) ++sent;
  reply(s, e, "[" + std::to_string(sent) + "]");
}

void broadcast_with_ack(Socket& s, Event& e, const SplitArgs& args) {
  Json spec = parse(args.first);
  socketio::BroadcastOptions opts = broadcast_options(spec.get());
  if (bool_of(spec.get(), "exceptSelf")) opts.except.emplace_back(s.id());
  loop::Millis timeout(int_of(spec.get(), "timeoutMs", 5000));
  socketio::Namespace& nsp = s.nsp();
  std::string id(s.id());
  auto report = [&nsp, id](bool timed_out, std::vector<socketio::AckResponse>& responses) {
    std::string out = timed_out ? "[true" : "[false";
    for (const socketio::AckResponse& r : responses) out += "," + r.args;
    if (Socket* target = nsp.socket(id)) target->emit("broadcast-ack-result", out + "]");
  };
  bool ok = nsp.emit_with_ack(opts, string_of(spec.get(), "event"), args.rest, e.attachments,
                              timeout, report);
  reply(s, e, ok ? "[true]" : "[false]");
}

bool cluster_command(Socket& s, Event& e, const SplitArgs& args);

void on_command(Socket& s, Event& e, const Reasons& reasons) {
  SplitArgs args = split(e.args);
  if (e.name == "echo") {
    reply(s, e, e.args, e.attachments);
  } else if (e.name == "echo-event") {
    s.emit("echo-event", e.args, e.attachments);
  } else if (e.name == "whoami") {
    reply(s, e, "[" + identity(s) + "]");
  } else if (e.name == "handshake") {
    reply(s, e, "[" + socketio::describe_socket(s).handshake_json + "]");
  } else if (e.name == "join" || e.name == "leave") {
    Json rooms = parse(args.first);
    for (const std::string& room : strings_of(rooms.get())) {
      if (e.name == "join")
        s.join(room);
      else
        s.leave(room);
    }
    reply(s, e, "[" + string_array(s.rooms()) + "]");
  } else if (e.name == "rooms") {
    reply(s, e, "[" + string_array(s.rooms()) + "]");
  } else if (e.name == "broadcast") {
    broadcast(s, e, args);
  } else if (e.name == "emit-with-ack") {
    emit_with_ack(s, e, args);
  } else if (e.name == "broadcast-with-ack") {
    broadcast_with_ack(s, e, args);
  } else if (e.name == "disconnect-me") {
    Json opts = parse(args.first);
    s.disconnect(bool_of(opts.get(), "close"));
  } else if (e.name == "close-transport") {
    s.connection().close(engineio::CloseReason::ForcedClose);
  } else if (cluster_command(s, e, args)) {
  } else if (e.name == "disconnect-reason") {
    Json id = parse(args.first);
    auto it = cJSON_IsString(id.get()) ? reasons.find(id->valuestring) : reasons.end();
    std::string answer = "[";
    if (it == reasons.end()) {
      answer += "null";
    } else {
      json::append_string(answer, it->second);
    }
    reply(s, e, answer + "]");
  }
}

std::string remote_sockets(const std::vector<socketio::RemoteSocket>& sockets, bool complete) {
  std::string out = "[{\"sockets\":[";
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    if (i) out += ',';
    out += "{\"id\":";
    json::append_string(out, sockets[i].id);
    out += ",\"rooms\":" + string_array(sockets[i].rooms);
    out += ",\"handshake\":";
    out += sockets[i].handshake_json.empty() ? std::string("null") : sockets[i].handshake_json;
    out += '}';
  }
  return out + "],\"complete\":" + (complete ? "true" : "false") + "}]";
}

// The cluster commands; false: not one of them.
bool cluster_command(Socket& s, Event& e, const SplitArgs& args) {
  socketio::Namespace& nsp = s.nsp();
  std::string id(s.id());
  std::optional<uint64_t> ack_id = e.ack_id;
  // Answers may come later: find the socket again by id.
  auto answer = [&nsp, id, ack_id](std::string text) {
    if (Socket* target = nsp.socket(id); target != nullptr && ack_id) target->ack(*ack_id, text);
  };
  Json opts = parse(args.first);
  if (e.name == "fetch-sockets") {
    nsp.adapter().fetch_sockets_async(
        broadcast_options(opts.get()),
        [answer](auto sockets, bool complete) { answer(remote_sockets(sockets, complete)); });
  } else if (e.name == "all-rooms") {
    nsp.adapter().all_rooms_async([answer](std::vector<std::string> rooms, bool complete) {
      answer("[{\"rooms\":" + string_array(rooms) +
             ",\"complete\":" + (complete ? "true" : "false") + "}]");
    });
  } else if (e.name == "sockets-join" || e.name == "sockets-leave") {
    Json rooms = parse(split(args.rest).first);
    std::vector<std::string> names = strings_of(rooms.get());
    std::vector<std::string_view> views(names.begin(), names.end());
    if (e.name == "sockets-join")
      nsp.sockets_join(broadcast_options(opts.get()), views);
    else
      nsp.sockets_leave(broadcast_options(opts.get()), views);
    answer("[true]");
  } else if (e.name == "disconnect-sockets") {
    Json close = parse(split(args.rest).first);
    nsp.disconnect_sockets(broadcast_options(opts.get()), cJSON_IsTrue(close.get()));
    answer("[true]");
  } else if (e.name == "server-side-emit") {
    socketio::ServerSideEmitCallback done;
    if (bool_of(opts.get(), "ack")) {
      done = [&nsp, id](std::vector<std::string> answers, bool complete) {
        std::string list = "[";
        for (std::size_t i = 0; i < answers.size(); ++i) list += (i ? "," : "") + answers[i];
        if (Socket* target = nsp.socket(id))
          target->emit("server-side-result",
                       std::string("[") + (complete ? "true" : "false") + "," + list + "]]");
      };
    }
    bool sent = nsp.server_side_emit(string_of(opts.get(), "event"), args.rest, std::move(done));
    answer(sent ? "[true]" : "[false]");
  } else {
    return false;
  }
  return true;
}

void on_server_side(socketio::Namespace& nsp, std::string_view event, std::string_view args,
                    const socketio::Namespace::ServerSideAck& ack) {
  socketio::BroadcastOptions local;
  local.flags.local = true;
  nsp.emit_to(local, "server-side", prepend(std::string(json_quote(event)), args));
  if (!ack) return;
  SplitArgs a = split(args);
  ack("{\"pong\":" + std::string(a.first.empty() ? "null" : a.first) + "}");
}

}  // namespace

void install_e2e_handlers(socketio::Server& io) {
  auto reasons = std::make_shared<Reasons>();
  for (const char* name : {"/", "/custom"}) {
    socketio::Namespace& nsp = io.of(name);
    nsp.on_connection([](Socket& s) {
      s.emit("auth", "[" + std::string(s.auth()) + "]");
      s.emit("hello", "[" + identity(s) + "]");
    });
    nsp.on_event([reasons](Socket& s, Event& e) { on_command(s, e, *reasons); });
    nsp.on_server_side_emit(
        [&nsp](std::string_view event, std::string_view args,
               socketio::Namespace::ServerSideAck ack) { on_server_side(nsp, event, args, ack); });
    nsp.on_disconnect([reasons](Socket& s, socketio::DisconnectReason why) {
      if (reasons->size() >= kMaxReasons) reasons->clear();
      (*reasons)[std::string(s.id())] = std::string(socketio::to_string(why));
    });
  }
}

}  // namespace daheim::testing
