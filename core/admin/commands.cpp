#include "admin/commands.hpp"

#include <cjson/cJSON.h>

#include <memory>
#include <string>

#include "socketio/namespace.hpp"

namespace daheim::admin {
namespace {

using Json = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

const char* string_at(const cJSON* array, int i) {
  const cJSON* v = cJSON_GetArrayItem(array, i);
  return cJSON_IsString(v) ? v->valuestring : nullptr;
}

// The optional room filter at `i`: absent, null, "" or a string.
bool filter_at(const cJSON* array, int i, socketio::BroadcastOptions& opts) {
  const cJSON* v = cJSON_GetArrayItem(array, i);
  if (v == nullptr || cJSON_IsNull(v)) return true;
  if (!cJSON_IsString(v)) return false;
  if (*v->valuestring) opts.rooms.emplace_back(v->valuestring);
  return true;
}

// JSON array text of the elements from `first` on.
std::string rest_from(const cJSON* array, int first) {
  Json rest(cJSON_CreateArray(), cJSON_Delete);
  for (int i = first; i < cJSON_GetArraySize(array); ++i)
    cJSON_AddItemToArray(rest.get(), cJSON_Duplicate(cJSON_GetArrayItem(array, i), true));
  std::unique_ptr<char, decltype(&cJSON_free)> text(cJSON_PrintUnformatted(rest.get()), cJSON_free);
  return text ? text.get() : "[]";
}

bool emit(socketio::Namespace& nsp, const cJSON* a) {
  socketio::BroadcastOptions opts;
  const char* event = string_at(a, 2);
  if (!filter_at(a, 1, opts) || event == nullptr) return false;
  return nsp.emit_to(opts, event, rest_from(a, 3));
}

bool join_or_leave(socketio::Namespace& nsp, const cJSON* a, bool join) {
  socketio::BroadcastOptions opts;
  const char* room = string_at(a, 1);
  if (room == nullptr || !filter_at(a, 2, opts)) return false;
  std::string_view rooms[] = {room};
  if (join)
    nsp.sockets_join(opts, rooms);
  else
    nsp.sockets_leave(opts, rooms);
  return true;
}

bool disconnect(socketio::Namespace& nsp, const cJSON* a) {
  socketio::BroadcastOptions opts;
  const cJSON* close = cJSON_GetArrayItem(a, 1);
  if (!filter_at(a, 2, opts)) return false;
  nsp.disconnect_sockets(opts, cJSON_IsTrue(close));
  return true;
}

}  // namespace

bool apply_command(socketio::Server& io, std::string_view command, std::string_view args) {
  Json a(cJSON_ParseWithLength(args.data(), args.size()), cJSON_Delete);
  const char* nsp_name = string_at(a.get(), 0);
  if (!cJSON_IsArray(a.get()) || nsp_name == nullptr) return false;
  socketio::Namespace* nsp = io.find(nsp_name);
  if (nsp == nullptr) return false;
  if (command == "emit") return emit(*nsp, a.get());
  if (command == "join") return join_or_leave(*nsp, a.get(), true);
  if (command == "leave") return join_or_leave(*nsp, a.get(), false);
  if (command == "_disconnect") return disconnect(*nsp, a.get());
  return false;
}

}  // namespace daheim::admin
