// The C functions of the host API table. Each checks its arguments and its
// thread, then forwards to the Host or to the Socket.IO layer.
#include "plugin/host_api.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "log/log.hpp"
#include "plugin/host.hpp"
#include "plugin/payload.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::plugin {
namespace {

using socketio::Socket;

constexpr dhl_str kAbsent{nullptr, 0};

// [loop] functions: false (and a log line) when called elsewhere.
bool on_loop(dhl_ctx* ctx, const char* fn) {
  if (ctx == nullptr) return false;
  if (ctx->host->on_loop_thread()) return true;
  ctx->host->log(*ctx, DHL_LOG_ERROR, std::string(fn) + " called off the loop thread (ignored)");
  return false;
}

// [loop] functions taking a socket: the live socket behind the handle, or
// null with `error` (DHL_ERR_THREAD off the loop, DHL_ERR_INVALID for NULL or
// a handle never given, DHL_ERR_GONE for one kept past its socket's end).
Socket* loop_socket(dhl_ctx* ctx, const dhl_socket* s, const char* fn, int& error) {
  error = DHL_ERR_THREAD;
  if (!on_loop(ctx, fn)) return nullptr;
  error = DHL_ERR_INVALID;
  if (s == nullptr) return nullptr;
  return ctx->host->socket_of(*ctx, s, fn, error);
}

Socket* loop_socket(dhl_ctx* ctx, const dhl_socket* s, const char* fn) {
  int error = 0;
  return loop_socket(ctx, s, fn, error);
}

socketio::Namespace* find_nsp(dhl_ctx* ctx, dhl_str nsp) {
  std::string_view name = view(nsp);
  return ctx->host->io().find(name.empty() ? "/" : name);
}

bool valid_target(const dhl_target* t) {
  if (t == nullptr) return false;
  if ((t->room_count && !t->rooms) || (t->except_count && !t->except)) return false;
  for (std::size_t i = 0; i < t->room_count; ++i)
    if (!valid_name(t->rooms[i])) return false;
  for (std::size_t i = 0; i < t->except_count; ++i)
    if (!valid_name(t->except[i])) return false;
  return true;
}

socketio::BroadcastOptions options_of(const dhl_target& t) {
  socketio::BroadcastOptions o;
  for (std::size_t i = 0; i < t.room_count; ++i) o.rooms.emplace_back(view(t.rooms[i]));
  for (std::size_t i = 0; i < t.except_count; ++i) o.except.emplace_back(view(t.except[i]));
  o.flags.volatile_ = (t.flags & DHL_TARGET_VOLATILE) != 0;
  o.flags.local = (t.flags & DHL_TARGET_LOCAL) != 0;
  return o;
}

// ---- Logging and config ---------------------------------------------------

void api_log(dhl_ctx* ctx, int level, dhl_str message) {
  if (ctx) ctx->host->log(*ctx, level, view(message));
}

dhl_str api_config(dhl_ctx* ctx) {
  return ctx ? str(ctx->config) : kAbsent;
}

// ---- Sockets -------------------------------------------------------------------

dhl_str optional_str(std::string_view s) {
  return s.empty() ? kAbsent : str(s);
}

dhl_str api_socket_info(dhl_ctx* ctx, const dhl_socket* s, int key) {
  Socket* live = loop_socket(ctx, s, "socket_info");
  if (live == nullptr) return kAbsent;
  Socket& so = *live;
  switch (key) {
    case DHL_INFO_ID:
      return str(so.id());
    case DHL_INFO_NAMESPACE:
      return str(so.nsp().name());
    case DHL_INFO_ADDRESS:
      return str(so.handshake().address());
    case DHL_INFO_URL:
      return str(so.handshake().url());
    case DHL_INFO_AUTH:
      return str(so.auth());
    case DHL_INFO_CLAIMS:
      return optional_str(ctx->host->user_of(so).claims_json);
    case DHL_INFO_USER_ID:
      return optional_str(ctx->host->user_of(so).id);
    case DHL_INFO_TRANSPORT:
      return str(engineio::to_string(so.connection().transport()));
    case DHL_INFO_RECOVERED:
      return so.recovered() ? str("1") : kAbsent;
    default:
      return kAbsent;
  }
}

dhl_str api_socket_header(dhl_ctx* ctx, const dhl_socket* s, dhl_str name) {
  Socket* so = loop_socket(ctx, s, "socket_header");
  if (so == nullptr) return kAbsent;
  std::optional<std::string_view> v = so->handshake().header(view(name));
  return v ? str(*v) : kAbsent;
}

dhl_str api_socket_query(dhl_ctx* ctx, const dhl_socket* s, dhl_str name) {
  Socket* so = loop_socket(ctx, s, "socket_query");
  if (so == nullptr) return kAbsent;
  std::optional<std::string_view> v = so->handshake().query_param(view(name));
  return v ? str(*v) : kAbsent;
}

int pair_at(engineio::PairsView pairs, std::size_t i, dhl_str* name, dhl_str* value) {
  if (i >= pairs.size()) return DHL_ERR_NOTFOUND;
  auto [n, v] = pairs.at(i);
  if (name) *name = str(n);
  if (value) *value = str(v);
  return DHL_OK;
}

int api_socket_header_at(dhl_ctx* ctx, const dhl_socket* s, size_t i, dhl_str* name,
                         dhl_str* value) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "socket_header_at", error);
  return so ? pair_at(so->handshake().headers(), i, name, value) : error;
}

int api_socket_query_at(dhl_ctx* ctx, const dhl_socket* s, size_t i, dhl_str* name,
                        dhl_str* value) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "socket_query_at", error);
  return so ? pair_at(so->handshake().query(), i, name, value) : error;
}

void* api_socket_data(dhl_ctx* ctx, const dhl_socket* s) {
  Socket* so = loop_socket(ctx, s, "socket_data");
  return so ? so->slot(ctx->slot_key) : nullptr;
}

void api_socket_set_data(dhl_ctx* ctx, dhl_socket* s, void* data) {
  if (Socket* so = loop_socket(ctx, s, "socket_set_data")) so->set_slot(ctx->slot_key, data);
}

dhl_socket* api_socket_find(dhl_ctx* ctx, dhl_str nsp, dhl_str id) {
  if (!on_loop(ctx, "socket_find")) return nullptr;
  socketio::Namespace* n = find_nsp(ctx, nsp);
  Socket* s = n ? n->socket(view(id)) : nullptr;
  return s && s->connected() ? ctx->host->handle_of(*s) : nullptr;
}

// ---- Emitting ----------------------------------------------------------------

int api_emit(dhl_ctx* ctx, dhl_socket* s, dhl_str event, const dhl_payload* args) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "emit", error);
  if (so == nullptr) return error;
  if (!valid_name(event) || !valid_args(args)) return DHL_ERR_INVALID;
  if (!so->connected()) return DHL_ERR_GONE;
  return so->emit(view(event), args_text(args), copy_attachments(args)) ? DHL_OK : DHL_ERR_REFUSED;
}

socketio::AckCallback ack_callback(dhl_ctx* ctx, dhl_ack_fn fn, void* user) {
  std::shared_ptr<Host*> alive = ctx->host->alive();
  return [alive, fn, user](bool timed_out, std::string_view answer,
                           std::vector<std::string>& attachments) {
    if (*alive == nullptr) return;  // the plugin has been unloaded
    if (timed_out) return fn(user, DHL_ERR_TIMEOUT, nullptr);
    PayloadView p(answer, attachments);
    fn(user, DHL_OK, &p.payload);
  };
}

int api_emit_with_ack(dhl_ctx* ctx, dhl_socket* s, dhl_str event, const dhl_payload* args,
                      uint32_t timeout_ms, dhl_ack_fn fn, void* user) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "emit_with_ack", error);
  if (so == nullptr) return error;
  if (!valid_name(event) || !valid_args(args) || !fn) return DHL_ERR_INVALID;
  if (!so->connected()) return DHL_ERR_GONE;
  bool sent = so->emit_with_ack(view(event), args_text(args), copy_attachments(args),
                                loop::Millis(timeout_ms), ack_callback(ctx, fn, user));
  return sent ? DHL_OK : DHL_ERR_REFUSED;
}

int api_emit_to(dhl_ctx* ctx, const dhl_target* target, dhl_str event, const dhl_payload* args) {
  if (!on_loop(ctx, "emit_to")) return DHL_ERR_THREAD;
  if (!valid_target(target) || !valid_name(event) || !valid_args(args)) return DHL_ERR_INVALID;
  socketio::Namespace* nsp = find_nsp(ctx, target->nsp);
  if (nsp == nullptr) return DHL_ERR_NOTFOUND;
  bool sent =
      nsp->emit_to(options_of(*target), view(event), args_text(args), copy_attachments(args));
  return sent ? DHL_OK : DHL_ERR_REFUSED;
}

socketio::BroadcastAckCallback broadcast_callback(dhl_ctx* ctx, dhl_broadcast_ack_fn fn,
                                                  void* user) {
  std::shared_ptr<Host*> alive = ctx->host->alive();
  return [alive, fn, user](bool timed_out, std::vector<socketio::AckResponse>& responses) {
    if (*alive == nullptr) return;
    std::vector<PayloadView> views;
    views.reserve(responses.size());
    for (const auto& r : responses) views.emplace_back(r.args, r.attachments);
    std::vector<dhl_payload> payloads;
    for (const auto& v : views) payloads.push_back(v.payload);
    fn(user, timed_out ? DHL_ERR_TIMEOUT : DHL_OK, payloads.data(), payloads.size());
  };
}

int api_emit_to_with_ack(dhl_ctx* ctx, const dhl_target* target, dhl_str event,
                         const dhl_payload* args, uint32_t timeout_ms, dhl_broadcast_ack_fn fn,
                         void* user) {
  if (!on_loop(ctx, "emit_to_with_ack")) return DHL_ERR_THREAD;
  if (!valid_target(target) || !valid_name(event) || !valid_args(args) || !fn)
    return DHL_ERR_INVALID;
  socketio::Namespace* nsp = find_nsp(ctx, target->nsp);
  if (nsp == nullptr) return DHL_ERR_NOTFOUND;
  std::vector<std::string> attachments = copy_attachments(args);
  bool sent = nsp->emit_with_ack(options_of(*target), view(event), args_text(args), attachments,
                                 loop::Millis(timeout_ms), broadcast_callback(ctx, fn, user));
  return sent ? DHL_OK : DHL_ERR_REFUSED;
}

int api_emit_to_user(dhl_ctx* ctx, dhl_str nsp, dhl_str user_id, dhl_str event,
                     const dhl_payload* args) {
  if (!valid_name(user_id)) return DHL_ERR_INVALID;
  std::string room = std::string(DHL_USER_ROOM_PREFIX) + std::string(view(user_id));
  dhl_str rooms[] = {str(room)};
  dhl_target target{nsp, rooms, 1, nullptr, 0, 0};
  return api_emit_to(ctx, &target, event, args);
}

// ---- Rooms and disconnect ------------------------------------------------------

int api_join(dhl_ctx* ctx, dhl_socket* s, dhl_str room) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "join", error);
  if (so == nullptr) return error;
  if (!valid_name(room)) return DHL_ERR_INVALID;
  if (!so->connected()) return DHL_ERR_GONE;
  return so->join(view(room)) ? DHL_OK : DHL_ERR_REFUSED;
}

int api_leave(dhl_ctx* ctx, dhl_socket* s, dhl_str room) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "leave", error);
  if (so == nullptr) return error;
  if (!valid_name(room)) return DHL_ERR_INVALID;
  if (!so->connected()) return DHL_ERR_GONE;
  so->leave(view(room));
  return DHL_OK;
}

int api_disconnect(dhl_ctx* ctx, dhl_socket* s, int close_transport) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "disconnect", error);
  if (so == nullptr) return error;
  if (!so->connected()) return DHL_ERR_GONE;
  so->disconnect(close_transport != 0);
  return DHL_OK;
}

// ---- Calls ----------------------------------------------------------------------

int api_reply(dhl_ctx* ctx, dhl_call* call, const dhl_payload* result) {
  if (ctx == nullptr || !valid_args(result)) return DHL_ERR_INVALID;
  return ctx->host->reply(ctx, call, result);
}

int api_reply_error(dhl_ctx* ctx, dhl_call* call, dhl_str code) {
  if (ctx == nullptr || !valid_name(code)) return DHL_ERR_INVALID;
  std::string args = error_args(view(code));
  dhl_payload p{args.data(), args.size(), nullptr, 0};
  return ctx->host->reply(ctx, call, &p, CallOutcome::Error);
}

dhl_call* api_call_defer(dhl_ctx* ctx, dhl_call* call) {
  return ctx ? ctx->host->defer(ctx, call) : nullptr;
}

int api_call_wants_ack(dhl_ctx* ctx, const dhl_call* call) {
  return ctx ? ctx->host->wants_ack(call) : DHL_ERR_INVALID;
}

int api_post(dhl_ctx* ctx, dhl_task_fn fn, void* user) {
  return ctx ? ctx->host->post(ctx, fn, user) : DHL_ERR_INVALID;
}

// ---- Timers -----------------------------------------------------------------------

dhl_timer* api_timer_create(dhl_ctx* ctx, dhl_timer_fn fn, void* user) {
  if (!on_loop(ctx, "timer_create") || fn == nullptr) return nullptr;
  return ctx->host->create_timer(ctx, fn, user);
}

int api_timer_arm(dhl_ctx* ctx, dhl_timer* t, uint64_t delay_ms) {
  if (!on_loop(ctx, "timer_arm")) return DHL_ERR_THREAD;
  if (!ctx->host->owns_timer(ctx, t)) return DHL_ERR_INVALID;
  constexpr uint64_t kMaxDelay = uint64_t{1} << 40;
  t->timer.arm(loop::Millis(static_cast<int64_t>(std::min(delay_ms, kMaxDelay))));
  return DHL_OK;
}

int api_timer_disarm(dhl_ctx* ctx, dhl_timer* t) {
  if (!on_loop(ctx, "timer_disarm")) return DHL_ERR_THREAD;
  if (!ctx->host->owns_timer(ctx, t)) return DHL_ERR_INVALID;
  t->timer.disarm();
  return DHL_OK;
}

void api_timer_destroy(dhl_ctx* ctx, dhl_timer* t) {
  if (on_loop(ctx, "timer_destroy")) ctx->host->destroy_timer(ctx, t);
}

uint64_t api_now_ms(dhl_ctx* ctx) {
  if (ctx == nullptr) return 0;
  auto since = ctx->host->io().timers().now().time_since_epoch();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since).count());
}

dhl_str view(std::string_view s) {
  return {s.data(), s.size()};
}
std::string_view view(dhl_str s) {
  return {s.ptr ? s.ptr : "", s.len};
}

HttpAnswer answer_of(const dhl_http_response& res) {
  HttpAnswer answer;
  answer.status = res.status == 0 ? 200 : res.status;
  if (res.content_type.len > 0) answer.content_type = std::string(view(res.content_type));
  answer.body = std::string(view(res.body));
  return answer;
}

// What the plugin filled is ignored when it deferred the request.
HttpAnswer call_plugin_route(dhl_http_fn fn, void* user, const HttpCall& call) {
  dhl_http_request req{view(call.method), view(call.path), view(call.body),
                       view(call.remote_address), &call};
  dhl_http_response res{0, {nullptr, 0}, {nullptr, 0}};
  fn(user, &req, &res);
  return answer_of(res);
}

int api_http_route(dhl_ctx* ctx, dhl_str method, dhl_str path, size_t max_body, dhl_http_fn fn,
                   void* user) {
  if (!on_loop(ctx, "http_route")) return DHL_ERR_THREAD;
  std::string_view m = view(method), p = view(path);
  if (!fn || (m != "GET" && m != "POST") || p.empty() || p.front() != '/') return DHL_ERR_INVALID;
  const HttpRouter& router = ctx->host->http_router();
  if (!router) return DHL_ERR_REFUSED;
  bool ok = router(m, p, max_body,
                   [fn, user](const HttpCall& call) { return call_plugin_route(fn, user, call); });
  return ok ? DHL_OK : DHL_ERR_REFUSED;
}

dhl_str api_http_header(dhl_ctx* ctx, const dhl_http_request* req, dhl_str lower_name) {
  if (!on_loop(ctx, "http_header") || !req || !req->host_data) return {nullptr, 0};
  const auto* call = static_cast<const HttpCall*>(req->host_data);
  auto value = call->header(view(lower_name));
  if (!value) return {nullptr, 0};
  call->header_values.push_back(std::move(*value));
  return view(std::string_view(call->header_values.back()));
}

int64_t api_target_count(dhl_ctx* ctx, const dhl_target* target) {
  if (!on_loop(ctx, "target_count")) return DHL_ERR_THREAD;
  if (!valid_target(target)) return DHL_ERR_INVALID;
  socketio::Namespace* nsp = find_nsp(ctx, target->nsp);
  if (nsp == nullptr) return DHL_ERR_NOTFOUND;
  return static_cast<int64_t>(nsp->fetch_sockets(options_of(*target)).size());
}

int api_verify_token(dhl_ctx* ctx, dhl_str token, dhl_str audience, dhl_str* claims,
                     dhl_str* error) {
  if (!on_loop(ctx, "verify_token")) return DHL_ERR_THREAD;
  const TokenVerifier& verify = ctx->host->token_verifier();
  if (!verify) return DHL_ERR_NOTFOUND;
  ctx->last_token_check = verify(view(token), view(audience));
  const TokenCheck& check = ctx->last_token_check;
  if (claims) *claims = check.ok ? view(std::string_view(check.claims_json)) : kAbsent;
  if (error) *error = check.ok ? kAbsent : view(check.error);
  return check.ok ? DHL_OK : DHL_ERR_REFUSED;
}

int api_send_message(dhl_ctx* ctx, dhl_str plugin, dhl_str topic, dhl_str json) {
  if (!on_loop(ctx, "send_message")) return DHL_ERR_THREAD;
  if (!plugin.ptr || !json.ptr || json.len == 0) return DHL_ERR_INVALID;
  return ctx->host->message(*ctx, view(plugin), view(topic), view(json));
}

// ---- Plugins in a cluster (ABI 1.3) --------------------------------------------

dhl_str api_node_id(dhl_ctx* ctx) {
  return ctx ? str(ctx->host->nodes().node_id()) : kAbsent;
}

int api_node_clustered(dhl_ctx* ctx) {
  return ctx && ctx->host->nodes().clustered() ? 1 : 0;
}

int api_node_events(dhl_ctx* ctx, dhl_node_fn fn, void* user) {
  if (!on_loop(ctx, "node_events")) return DHL_ERR_THREAD;
  return ctx->host->nodes().set_node_handler(ctx, fn, user);
}

bool valid_strs(const dhl_str* s, std::size_t n) {
  if (n && !s) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (!s[i].ptr && s[i].len) return false;
  return true;
}

std::vector<std::string_view> views_of(const dhl_str* s, std::size_t n) {
  std::vector<std::string_view> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(view(s[i]));
  return out;
}

int api_redis_command(dhl_ctx* ctx, const dhl_str* argv, size_t argc, uint32_t timeout_ms,
                      dhl_redis_fn fn, void* user) {
  if (!on_loop(ctx, "redis_command")) return DHL_ERR_THREAD;
  if (!valid_strs(argv, argc)) return DHL_ERR_INVALID;
  return ctx->host->nodes().command(ctx, views_of(argv, argc), timeout_ms, fn, user);
}

int api_redis_script(dhl_ctx* ctx, dhl_str script, const dhl_str* keys, size_t key_count,
                     const dhl_str* args, size_t arg_count, uint32_t timeout_ms, dhl_redis_fn fn,
                     void* user) {
  if (!on_loop(ctx, "redis_script")) return DHL_ERR_THREAD;
  if (!valid_strs(keys, key_count) || !valid_strs(args, arg_count)) return DHL_ERR_INVALID;
  return ctx->host->nodes().script(ctx, view(script), views_of(keys, key_count),
                                   views_of(args, arg_count), timeout_ms, fn, user);
}

int api_node_messages(dhl_ctx* ctx, dhl_node_message_fn fn, void* user) {
  if (!on_loop(ctx, "node_messages")) return DHL_ERR_THREAD;
  return ctx->host->nodes().set_message_handler(ctx, fn, user);
}

int api_node_emit(dhl_ctx* ctx, dhl_str event, const dhl_payload* args, uint32_t timeout_ms,
                  dhl_broadcast_ack_fn fn, void* user) {
  if (!on_loop(ctx, "node_emit")) return DHL_ERR_THREAD;
  if (!valid_name(event) || !valid_args(args) || (args && args->attachment_count))
    return DHL_ERR_INVALID;
  return ctx->host->nodes().emit(ctx, view(event), args_text(args), timeout_ms, fn, user);
}

int api_node_answer(dhl_ctx* ctx, dhl_node_answer* answer, dhl_str json_value) {
  if (!on_loop(ctx, "node_answer")) return DHL_ERR_THREAD;
  if (!answer || !answer->send) return DHL_ERR_DONE;
  std::string_view v = view(json_value);
  std::string array = "[" + std::string(v) + "]";
  dhl_payload p{array.data(), array.size(), nullptr, 0};
  if (v.empty() || !valid_args(&p)) return DHL_ERR_INVALID;
  auto send = std::move(answer->send);
  answer->send = nullptr;
  send(v);
  return DHL_OK;
}

// ---- Cluster-wide counts, HTTP answers given later (ABI 1.4) --------------------

int api_target_count_async(dhl_ctx* ctx, const dhl_target* target, dhl_count_fn fn, void* user) {
  if (!on_loop(ctx, "target_count_async")) return DHL_ERR_THREAD;
  if (!valid_target(target) || !fn) return DHL_ERR_INVALID;
  socketio::Namespace* nsp = find_nsp(ctx, target->nsp);
  if (nsp == nullptr) return DHL_ERR_NOTFOUND;
  std::shared_ptr<Host*> alive = ctx->host->alive();
  nsp->adapter().fetch_sockets_async(
      options_of(*target),
      [alive, fn, user](std::vector<socketio::RemoteSocket> sockets, bool complete) {
        if (*alive == nullptr) return;  // the plugins are gone
        fn(user, complete ? DHL_OK : DHL_ERR_TIMEOUT, static_cast<int64_t>(sockets.size()));
      });
  return DHL_OK;
}

dhl_http_reply* api_http_defer(dhl_ctx* ctx, const dhl_http_request* req) {
  if (!on_loop(ctx, "http_defer") || !req || !req->host_data) return nullptr;
  return ctx->host->http_replies().defer(ctx, *static_cast<const HttpCall*>(req->host_data));
}

int api_http_reply(dhl_ctx* ctx, dhl_http_reply* reply, const dhl_http_response* res) {
  if (!on_loop(ctx, "http_reply")) return DHL_ERR_THREAD;
  if (!reply || !res) return DHL_ERR_INVALID;
  return ctx->host->http_replies().answer(ctx, reply, answer_of(*res));
}

// ---- Session state changed (ABI 1.4, branch streams) ---------------------------

int api_session_changed(dhl_ctx* ctx, dhl_socket* s) {
  int error = 0;
  Socket* so = loop_socket(ctx, s, "session_changed", error);
  if (so == nullptr) return error;
  if (!so->connected()) return DHL_ERR_INVALID;
  so->nsp().session_changed(*so);
  return DHL_OK;
}

// ---- Broadcasts confirmed by the cluster's log (ABI 1.5, branch recovery) --------

int api_emit_to_logged(dhl_ctx* ctx, const dhl_target* target, dhl_str event,
                       const dhl_payload* args, dhl_status_fn fn, void* user) {
  if (!on_loop(ctx, "emit_to_logged")) return DHL_ERR_THREAD;
  if (!valid_target(target) || !valid_name(event) || !valid_args(args) || !fn)
    return DHL_ERR_INVALID;
  socketio::Namespace* nsp = find_nsp(ctx, target->nsp);
  if (nsp == nullptr) return DHL_ERR_NOTFOUND;
  socketio::Adapter& adapter = nsp->adapter();
  if (!adapter.can_log()) return DHL_ERR_UNAVAILABLE;
  adapter.expect_logged();
  if (!nsp->emit_to(options_of(*target), view(event), args_text(args), copy_attachments(args)))
    return DHL_ERR_REFUSED;
  std::shared_ptr<Host*> alive = ctx->host->alive();
  adapter.when_logged([alive, fn, user](socketio::Adapter::Logged logged) {
    if (*alive == nullptr) return;  // the plugins are gone
    using L = socketio::Adapter::Logged;
    fn(user, logged == L::Yes        ? DHL_OK
             : logged == L::TimedOut ? DHL_ERR_TIMEOUT
                                     : DHL_ERR_UNAVAILABLE);
  });
  return DHL_OK;
}

constexpr dhl_host kHostApi = {
    sizeof(dhl_host),
    DHL_ABI_MAJOR,
    DHL_ABI_MINOR,
    api_log,
    api_config,
    api_socket_info,
    api_socket_header,
    api_socket_query,
    api_socket_header_at,
    api_socket_query_at,
    api_socket_data,
    api_socket_set_data,
    api_socket_find,
    api_emit,
    api_emit_with_ack,
    api_emit_to,
    api_emit_to_with_ack,
    api_emit_to_user,
    api_join,
    api_leave,
    api_disconnect,
    api_reply,
    api_reply_error,
    api_call_defer,
    api_call_wants_ack,
    api_post,
    api_timer_create,
    api_timer_arm,
    api_timer_disarm,
    api_timer_destroy,
    api_now_ms,
    api_http_route,
    api_http_header,
    api_target_count,
    api_verify_token,
    api_send_message,
    api_node_id,
    api_node_clustered,
    api_node_events,
    api_redis_command,
    api_redis_script,
    api_node_messages,
    api_node_emit,
    api_node_answer,
    // ABI 1.4 (branch clusterfin)
    api_target_count_async,
    api_http_defer,
    api_http_reply,
    // ABI 1.4 (branch streams)
    api_session_changed,
    // ABI 1.5 (branch recovery)
    api_emit_to_logged,
};

}  // namespace

const dhl_host& host_api() {
  return kHostApi;
}

}  // namespace daheim::plugin
