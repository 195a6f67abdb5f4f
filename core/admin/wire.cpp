#include "admin/wire.hpp"

#include <cjson/cJSON.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "socketio/json_text.hpp"

namespace daheim::admin {
namespace {

using Json = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

Json parse(std::string_view text) {
  return Json(cJSON_ParseWithLength(text.data(), text.size()), cJSON_Delete);
}

std::string print(const cJSON* item) {
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(item), cJSON_free);
  return text ? std::string(text.get()) : std::string("null");
}

void add_string(std::string& out, std::string_view name, std::string_view value) {
  socketio::json::append_string(out, name);
  out += ':';
  socketio::json::append_string(out, value);
}

constexpr std::string_view kRedacted = "[redacted]";

// "...&access_token=abc&x=1" -> "...&access_token=[redacted]&x=1".
std::string redact_url(std::string url) {
  constexpr std::string_view kParam = "access_token=";
  for (std::size_t at = url.find(kParam); at != std::string::npos; at = url.find(kParam, at + 1)) {
    if (at > 0 && url[at - 1] != '?' && url[at - 1] != '&') continue;
    std::size_t begin = at + kParam.size();
    std::size_t end = url.find('&', begin);
    url.replace(begin, (end == std::string::npos ? url.size() : end) - begin, kRedacted);
  }
  return url;
}

// A copy of `item` (or null) under `name` in `to`.
void copy_member(cJSON* to, const cJSON* from, const char* name) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(from, name);
  cJSON_AddItemToObject(to, name, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
}

std::string client_address(const cJSON* handshake) {
  const cJSON* headers = cJSON_GetObjectItemCaseSensitive(handshake, "headers");
  for (const char* name : {"cf-connecting-ip", "x-forwarded-for"}) {
    const cJSON* v = cJSON_GetObjectItemCaseSensitive(headers, name);
    if (cJSON_IsString(v) && *v->valuestring) return v->valuestring;
  }
  const cJSON* a = cJSON_GetObjectItemCaseSensitive(handshake, "address");
  return cJSON_IsString(a) ? a->valuestring : "";
}

cJSON* handshake_for_ui(const cJSON* h) {
  cJSON* out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "address", client_address(h).c_str());
  copy_member(out, h, "headers");
  if (cJSON* auth = cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(out, "headers"), "authorization"))
    cJSON_SetValuestring(auth, std::string(kRedacted).c_str());
  copy_member(out, h, "query");
  if (cJSON* token = cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(out, "query"), "access_token"))
    cJSON_SetValuestring(token, std::string(kRedacted).c_str());
  for (const char* name : {"issued", "secure", "time"}) copy_member(out, h, name);
  const cJSON* url = cJSON_GetObjectItemCaseSensitive(h, "url");
  cJSON_AddStringToObject(out, "url",
                          redact_url(cJSON_IsString(url) ? url->valuestring : "").c_str());
  copy_member(out, h, "xdomain");
  return out;
}

std::string admin_field(const cJSON* data, const char* name) {
  const cJSON* v =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, "_admin"), name);
  return cJSON_IsString(v) ? v->valuestring : "";
}

}  // namespace

std::string iso_date(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string config_json(bool readonly, bool development) {
  std::string out = R"({"supportedFeatures":[)";
  if (!readonly) out += R"("EMIT","JOIN","LEAVE","DISCONNECT","MJOIN","MLEAVE","MDISCONNECT",)";
  out += R"("AGGREGATED_EVENTS")";
  if (development) out += R"(,"ALL_EVENTS")";
  out += "]}";
  return out;
}

std::string server_stats_json(const ServerStats& s) {
  std::string out = "{";
  add_string(out, "serverId", s.server_id);
  out += ',';
  add_string(out, "hostname", s.hostname);
  out += ",\"pid\":" + std::to_string(s.pid);
  char uptime[32];
  std::snprintf(uptime, sizeof uptime, "%.3f", s.uptime);
  out += ",\"uptime\":" + std::string(uptime);
  out += ",\"clientsCount\":" + std::to_string(s.clients);
  out += ",\"pollingClientsCount\":" + std::to_string(s.polling_clients);
  out += ",\"aggregatedEvents\":[";
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const AggregatedEvent& e = s.events[i];
    out += (i ? ",{" : "{");
    out += "\"timestamp\":" + std::to_string(e.timestamp) + ',';
    add_string(out, "type", e.type);
    if (!e.sub_type.empty()) {
      out += ',';
      add_string(out, "subType", e.sub_type);
    }
    out += ",\"count\":" + std::to_string(e.count) + '}';
  }
  out += "],\"namespaces\":[";
  for (std::size_t i = 0; i < s.namespaces.size(); ++i) {
    out += (i ? ",{" : "{");
    add_string(out, "name", s.namespaces[i].name);
    out += ",\"socketsCount\":" + std::to_string(s.namespaces[i].sockets) + '}';
  }
  out += "]}";
  return out;
}

std::string serialize_socket(const socketio::RemoteSocket& socket, std::string_view nsp) {
  Json data = parse(socket.data_json);
  if (!cJSON_IsObject(data.get())) data = Json(cJSON_CreateObject(), cJSON_Delete);
  Json handshake = parse(socket.handshake_json);
  std::string out = "{";
  add_string(out, "id", socket.id);
  out += ',';
  add_string(out, "clientId", admin_field(data.get(), "clientId"));
  out += ',';
  add_string(out, "transport", admin_field(data.get(), "transport"));
  out += ',';
  add_string(out, "nsp", nsp);
  cJSON_DeleteItemFromObjectCaseSensitive(data.get(), "_admin");
  out += ",\"data\":" + print(data.get());
  Json ui(handshake_for_ui(handshake.get()), cJSON_Delete);
  out += ",\"handshake\":" + print(ui.get()) + ",\"rooms\":[";
  for (std::size_t i = 0; i < socket.rooms.size(); ++i) {
    if (i) out += ',';
    socketio::json::append_string(out, socket.rooms[i]);
  }
  out += "]}";
  return out;
}

std::string data_with_admin(std::string_view data_json, std::string_view engine_id,
                            std::string_view transport) {
  std::string out = "{\"_admin\":{";
  add_string(out, "clientId", engine_id.substr(0, 12));
  out += ',';
  add_string(out, "transport", transport);
  out += '}';
  // The data's own members after ours (it is an object unless unset).
  std::size_t open = data_json.find('{');
  std::string_view rest = open == std::string_view::npos ? "}" : data_json.substr(open + 1);
  std::size_t first = rest.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && rest[first] != '}') out += ',';
  out += open == std::string_view::npos ? std::string_view("}") : rest;
  return out;
}

std::string without_auth(std::string_view handshake_json) {
  Json h = parse(handshake_json);
  if (!cJSON_IsObject(h.get())) return "{}";
  cJSON_DeleteItemFromObjectCaseSensitive(h.get(), "auth");
  cJSON_AddItemToObject(h.get(), "auth", cJSON_CreateObject());
  return print(h.get());
}

std::string event_with_name(std::string_view name, std::string_view args) {
  std::string out = "[";
  socketio::json::append_string(out, name);
  std::size_t open = args.find('[');
  if (open == std::string_view::npos) return out + ']';
  std::string_view rest = args.substr(open + 1);
  std::size_t first = rest.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && rest[first] != ']') out += ',';
  out += rest;
  return out;
}

}  // namespace daheim::admin
