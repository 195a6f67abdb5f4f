/*
 * daheim-live plugin ABI, major version 1 (C99; only <stddef.h> and <stdint.h>).
 *
 * A plugin is a shared object exporting one function, dhl_plugin_v1(), that
 * returns a const descriptor: its name, version, callbacks and the table of
 * `$`-methods. Client event `X` is dispatched to the first loaded plugin that
 * has the method "$X"; what the method answers becomes the ack.
 *
 * Compatibility rules (append-only, SQLite `sqlite3ext.h` style):
 *   - Both tables start with `struct_size`. New members are only ever added
 *     at the end; nothing is removed or reordered within a major version.
 *   - The host reads only the descriptor members that fit in the plugin's
 *     struct_size; the plugin checks DHL_HOST_HAS() before calling a host
 *     function added after 1.0.
 *   - An incompatible change makes a new major with a new entry symbol
 *     (dhl_plugin_v2); a host refuses a descriptor whose abi_major it lacks.
 *
 * Conventions:
 *   - Strings are UTF-8 (ptr, len) pairs, not NUL-terminated unless stated.
 *     A dhl_str with ptr == NULL means "absent"; {ptr, 0} is the empty string.
 *   - Every pointer the host hands to a callback is borrowed for that call
 *     only; copy what you keep. Every pointer the plugin hands to the host is
 *     borrowed for the duration of the host call only (the host copies).
 *   - Errors are plain ints: DHL_OK (0) or a negative DHL_ERR_*.
 *   - Threads: the host runs every plugin callback on its event-loop thread.
 *     Callbacks must not block. Host functions marked [loop] may only be
 *     called on that thread (from a callback, a timer or a posted task);
 *     elsewhere they fail with DHL_ERR_THREAD. Functions marked [any] are
 *     thread-safe.
 *   - No exception, C++ type or libwebsockets type crosses this interface.
 *     A plugin that crashes takes the whole server down: the host cannot
 *     contain that.
 */
#ifndef DAHEIM_PLUGIN_H
#define DAHEIM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DHL_ABI_MAJOR 1
#define DHL_ABI_MINOR 5
/* The entry symbol of this major version. */
#define DHL_ENTRY_SYMBOL "dhl_plugin_v1"

#if defined(_WIN32)
#define DHL_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define DHL_EXPORT __attribute__((visibility("default")))
#else
#define DHL_EXPORT
#endif

/* Declares (and, followed by a body, defines) the entry function:
 *   DHL_PLUGIN_ENTRY { return &my_descriptor; }
 * Build the plugin with hidden visibility so that this is its only export. */
#ifdef __cplusplus
#define DHL_PLUGIN_ENTRY extern "C" DHL_EXPORT const dhl_plugin_desc* dhl_plugin_v1(void)
#else
#define DHL_PLUGIN_ENTRY DHL_EXPORT const dhl_plugin_desc* dhl_plugin_v1(void)
#endif

/* ---- Status codes ------------------------------------------------------ */
#define DHL_OK 0
#define DHL_ERR_INVALID (-1)  /* bad argument: NULL, not UTF-8, not a JSON array, ... */
#define DHL_ERR_GONE (-2)     /* the socket left, or the host is shutting down */
#define DHL_ERR_REFUSED (-3)  /* not sent: reserved event name, limit reached, slow client */
#define DHL_ERR_THREAD (-4)   /* a [loop] function called from another thread */
#define DHL_ERR_DONE (-5)     /* the call was already answered (or deferred) */
#define DHL_ERR_TIMEOUT (-6)  /* ack callbacks: no (complete) answer in time */
#define DHL_ERR_NOTFOUND (-7) /* no such namespace, header, index, ... */
/* Redis unreachable: no cluster configured, not connected, or the connection
 * was lost before the reply came (ABI 1.3). */
#define DHL_ERR_UNAVAILABLE (-8)
#define DHL_ERR_REDIS (-9) /* Redis answered with an error reply (ABI 1.3) */

/* ---- Log levels (syslog priorities) ------------------------------------ */
#define DHL_LOG_ERROR 3
#define DHL_LOG_WARNING 4
#define DHL_LOG_NOTICE 5
#define DHL_LOG_INFO 6
#define DHL_LOG_DEBUG 7

/* ---- Broadcast flags (dhl_target.flags) -------------------------------- */
#define DHL_TARGET_VOLATILE 1u /* skip recipients that cannot take it right now */
#define DHL_TARGET_LOCAL 2u    /* this server only (no cluster forwarding) */

/* The room every socket of a user is in ("user-" + the user id), joined by
 * the host before any plugin's on_connect when the connection is
 * authenticated. emit_to_user() targets it. */
#define DHL_USER_ROOM_PREFIX "user-"

/* ---- Socket information keys (socket_info) ------------------------------ */
/* DHL_INFO_ID: the Socket.IO socket id (20 characters; "/nsp#<sid>" for an
 * Engine.IO 3 client outside "/"). */
#define DHL_INFO_ID 1
#define DHL_INFO_NAMESPACE 2 /* "/", "/admin", ... */
#define DHL_INFO_ADDRESS 3   /* the peer's IP address */
#define DHL_INFO_URL 4       /* path and query of the handshake request */
#define DHL_INFO_AUTH 5      /* the CONNECT payload (JSON object text, "{}" if none) */
/* DHL_INFO_CLAIMS: the verified token's claims (JSON object text); absent
 * (ptr NULL) for an unauthenticated socket. */
#define DHL_INFO_CLAIMS 6
#define DHL_INFO_USER_ID 7   /* the authenticated user's id; absent if none */
#define DHL_INFO_TRANSPORT 8 /* "polling" or "websocket" (the current one) */
/* DHL_INFO_RECOVERED (ABI 1.2): "1" when the socket took over a disconnected
 * socket's session (connection-state recovery: same id, rooms and data, the
 * missed events resent); absent for a new session and on older hosts. */
#define DHL_INFO_RECOVERED 9

typedef struct dhl_str {
  const char* ptr;
  size_t len;
} dhl_str;

/* Event arguments or ack answers: the JSON text of an array (UTF-8), with
 * Socket.IO placeholders {"_placeholder":true,"num":N} standing for binary
 * attachments[N]. When the plugin passes a payload, json_len 0 means "no
 * arguments" ([]) and attachments may be NULL when attachment_count is 0. */
typedef struct dhl_payload {
  const char* json;
  size_t json_len;
  const dhl_str* attachments;
  size_t attachment_count;
} dhl_payload;

/* Who a broadcast goes to, in one namespace (empty or NULL: "/"): sockets in
 * any of `rooms` (every socket when room_count is 0), minus the sockets in any
 * of `except` (a socket's own id is a room, so except = {id} leaves it out). */
typedef struct dhl_target {
  dhl_str nsp;
  const dhl_str* rooms;
  size_t room_count;
  const dhl_str* except;
  size_t except_count;
  uint32_t flags; /* DHL_TARGET_* */
} dhl_target;

/* Opaque handles. */
typedef struct dhl_ctx dhl_ctx;       /* one loaded plugin, as the host knows it */
typedef struct dhl_socket dhl_socket; /* a connected socket; borrowed, see below */
typedef struct dhl_call dhl_call;     /* one client event being answered */
typedef struct dhl_timer dhl_timer;   /* a one-shot timer on the loop */
typedef struct dhl_host dhl_host;

/* ---- HTTP routes (ABI 1.1) ---------------------------------------------- */
/* One HTTP request to a plugin's route. Borrowed for the callback only. */
typedef struct dhl_http_request {
  dhl_str method;         /* "POST", "GET" */
  dhl_str path;           /* without the query */
  dhl_str body;           /* the whole body (at most the route's max_body) */
  dhl_str remote_address; /* the peer's IP address */
  const void* host_data;  /* for http_header */
} dhl_http_request;
/* The answer, filled by the callback. The host copies the strings after the
 * callback returns: they must stay valid until then. */
typedef struct dhl_http_response {
  int status;           /* 0 means 200 */
  dhl_str content_type; /* empty means "application/json" */
  dhl_str body;
} dhl_http_response;
/* [loop] Answers one request synchronously. */
typedef void (*dhl_http_fn)(void* user, const dhl_http_request* req, dhl_http_response* res);

/*
 * dhl_socket: valid for the callback it was handed to (and, after a
 * socket_find(), until control returns to the event loop). To reach a socket
 * later, keep its namespace and id (socket_info) and call socket_find().
 * A handle kept anyway is checked, never trusted: it is an index with a
 * generation, not an address. While its socket is connected (through the
 * end of its on_disconnect callbacks) it keeps working; after that every
 * function refuses it (DHL_ERR_GONE; {NULL, 0} / NULL for socket_info,
 * socket_data and the like) and the host logs the plugin's mistake. A value
 * the host never gave gets DHL_ERR_INVALID.
 *
 * dhl_call: the call handed to a method is owned by the host and valid
 * during the method only. The method either answers it (reply, reply_error),
 * returns without answering ("nothing returned"), or turns it into a
 * deferred call with call_defer(). A deferred call is owned by the plugin
 * and must be answered exactly once, from any thread; the first answer wins,
 * later ones return DHL_ERR_DONE. An answer for a socket that has left is
 * dropped.
 */

/* Callbacks the host calls back (all on the loop thread). */
typedef void (*dhl_task_fn)(void* user);
typedef void (*dhl_timer_fn)(void* user);
/* One socket's answer to emit_with_ack: status DHL_OK with the answer's
 * arguments, or DHL_ERR_TIMEOUT (no answer in time, or the socket left) with
 * answer NULL. `answer` is borrowed for the call. */
typedef void (*dhl_ack_fn)(void* user, int status, const dhl_payload* answer);
/* The answers to a broadcast with ack: status DHL_OK when every reached
 * client answered, DHL_ERR_TIMEOUT with those that answered in time. */
typedef void (*dhl_broadcast_ack_fn)(void* user, int status, const dhl_payload* answers,
                                     size_t count);

/* ---- Plugins in a cluster (ABI 1.3) ------------------------------------ */
/* Redis reply types (RESP2). */
#define DHL_REDIS_NIL 0
#define DHL_REDIS_STRING 1 /* bulk string (binary-safe) */
#define DHL_REDIS_STATUS 2 /* "+OK" and the like */
#define DHL_REDIS_ERROR 3  /* "-ERR ...": str is the message */
#define DHL_REDIS_INTEGER 4
#define DHL_REDIS_ARRAY 5
/* One reply, as a tree; borrowed for the callback. */
typedef struct dhl_redis_reply {
  int type; /* DHL_REDIS_* */
  int64_t integer;
  dhl_str str; /* STRING, STATUS, ERROR */
  const struct dhl_redis_reply* elements;
  size_t element_count;
} dhl_redis_reply;
/* The outcome of a Redis command: status DHL_OK with the reply, DHL_ERR_REDIS
 * with the error reply, or DHL_ERR_TIMEOUT / DHL_ERR_UNAVAILABLE /
 * DHL_ERR_GONE (host stopping) with reply NULL. */
typedef void (*dhl_redis_fn)(void* user, int status, const dhl_redis_reply* reply);

/* Node membership events. */
#define DHL_NODE_JOINED 1
#define DHL_NODE_LEFT 2 /* stopped, or its heartbeat expired (it died) */
typedef void (*dhl_node_fn)(void* user, int event, dhl_str node_id);
/* A node message answer handle, valid during the message callback only. */
typedef struct dhl_node_answer dhl_node_answer;
/* A message from this plugin's instance on another node. `answer` is NULL
 * unless the sender waits for answers (answer with node_answer, at most once,
 * during the callback; unanswered: the sender gets no answer from this node). */
typedef void (*dhl_node_message_fn)(void* user, dhl_str event, const dhl_payload* args,
                                    dhl_node_answer* answer);

/* ---- Cluster-wide counts, HTTP answers given later (ABI 1.4, clusterfin) -- */
/* How many sockets a target selects over every node: status DHL_OK when
 * every node answered, DHL_ERR_TIMEOUT when some did not answer within the
 * cluster's requestsTimeout (count is then what this node and the nodes that
 * answered have: a lower bound). */
typedef void (*dhl_count_fn)(void* user, int status, int64_t count);
/* An HTTP request a route handler took over (http_defer); owned by the
 * plugin until it passes it to http_reply. */
typedef struct dhl_http_reply dhl_http_reply;

/* ---- Broadcasts confirmed by the cluster's log (ABI 1.5, branch recovery) -- */
/* How an emit_to_logged broadcast ended: DHL_OK, in the log every node reads
 * (and a later recovery replays); DHL_ERR_UNAVAILABLE, Redis refused it or
 * the connection was lost first (it is not delivered on this node either);
 * DHL_ERR_TIMEOUT, no answer within the cluster's requestsTimeout (it may
 * still be delivered later). */
typedef void (*dhl_status_fn)(void* user, int status);

/* ---- The host API table ------------------------------------------------ */
struct dhl_host {
  size_t struct_size; /* sizeof(dhl_host) as the host was built */
  uint32_t abi_major;
  uint32_t abi_minor;

  /* [any] Writes one log line, prefixed with the plugin's name. */
  void (*log)(dhl_ctx* ctx, int level, dhl_str message);
  /* [any] The plugin's `config` value from the server configuration, as JSON
   * text ("null" when none was given). Valid until shutdown returns. */
  dhl_str (*config)(dhl_ctx* ctx);

  /* [loop] Socket information (DHL_INFO_*). The text is valid as long as the
   * socket handle. Absent or unknown keys give {NULL, 0}. */
  dhl_str (*socket_info)(dhl_ctx* ctx, const dhl_socket* socket, int key);
  /* [loop] The handshake's header `lower_name` (first occurrence) or query
   * parameter `name` (decoded); {NULL, 0} when absent. */
  dhl_str (*socket_header)(dhl_ctx* ctx, const dhl_socket* socket, dhl_str lower_name);
  dhl_str (*socket_query)(dhl_ctx* ctx, const dhl_socket* socket, dhl_str name);
  /* [loop] Iterates the headers / query parameters in order: fills *name and
   * *value for `index`, DHL_ERR_NOTFOUND past the end. */
  int (*socket_header_at)(dhl_ctx* ctx, const dhl_socket* socket, size_t index, dhl_str* name,
                          dhl_str* value);
  int (*socket_query_at)(dhl_ctx* ctx, const dhl_socket* socket, size_t index, dhl_str* name,
                         dhl_str* value);
  /* [loop] This plugin's pointer for the socket (NULL until set). The plugin
   * owns what it stores and frees it, typically in on_disconnect, where the
   * pointer is still readable. Each plugin has its own. */
  void* (*socket_data)(dhl_ctx* ctx, const dhl_socket* socket);
  void (*socket_set_data)(dhl_ctx* ctx, dhl_socket* socket, void* data);
  /* [loop] The connected socket `id` of namespace `nsp` (empty: "/"), or
   * NULL. The handle is valid until control returns to the event loop. */
  dhl_socket* (*socket_find)(dhl_ctx* ctx, dhl_str nsp, dhl_str id);

  /* [loop] Emits `event` to one socket. DHL_REFUSED: not sent (reserved name,
   * client too slow); DHL_ERR_GONE: not connected. */
  int (*emit)(dhl_ctx* ctx, dhl_socket* socket, dhl_str event, const dhl_payload* args);
  /* [loop] Same, asking for an ack. On DHL_OK `fn` runs exactly once, on the
   * loop thread, with the answer or DHL_ERR_TIMEOUT; otherwise never. */
  int (*emit_with_ack)(dhl_ctx* ctx, dhl_socket* socket, dhl_str event, const dhl_payload* args,
                       uint32_t timeout_ms, dhl_ack_fn fn, void* user);
  /* [loop] Broadcasts to the sockets `target` selects (rooms, namespace),
   * encoded once. DHL_ERR_NOTFOUND: no such namespace. */
  int (*emit_to)(dhl_ctx* ctx, const dhl_target* target, dhl_str event, const dhl_payload* args);
  /* [loop] Broadcast with ack: on DHL_OK `fn` runs exactly once (possibly
   * before this returns, when no client was reached). */
  int (*emit_to_with_ack)(dhl_ctx* ctx, const dhl_target* target, dhl_str event,
                          const dhl_payload* args, uint32_t timeout_ms, dhl_broadcast_ack_fn fn,
                          void* user);
  /* [loop] Emits to every socket of user `user_id` in namespace `nsp`. */
  int (*emit_to_user)(dhl_ctx* ctx, dhl_str nsp, dhl_str user_id, dhl_str event,
                      const dhl_payload* args);

  /* [loop] Room membership; disconnect sends DISCONNECT and removes the
   * socket from its namespace (close_transport != 0: every namespace of the
   * client, then the connection). on_disconnect callbacks run before
   * disconnect returns; the handle stays readable until the callback ends.
   * join: DHL_ERR_REFUSED when the socket is in socketio.maxRoomsPerSocket
   * rooms already. */
  int (*join)(dhl_ctx* ctx, dhl_socket* socket, dhl_str room);
  int (*leave)(dhl_ctx* ctx, dhl_socket* socket, dhl_str room);
  int (*disconnect)(dhl_ctx* ctx, dhl_socket* socket, int close_transport);

  /* Answers a call: `result` is the ack's arguments (NULL: "nothing
   * returned"; the client still gets an answer, [null], if it asked for one,
   * and a warning is logged). [loop] for the call a method is running with,
   * [any] for a deferred call. On DHL_ERR_INVALID the call stays open. */
  int (*reply)(dhl_ctx* ctx, dhl_call* call, const dhl_payload* result);
  /* Answers with [{"error": code}] (the coded-error convention). */
  int (*reply_error)(dhl_ctx* ctx, dhl_call* call, dhl_str code);
  /* [loop, inside the method only] Takes over the call: returns a handle the
   * plugin owns until it answers it (from any thread), or NULL when the
   * call was already answered or deferred. */
  dhl_call* (*call_defer)(dhl_ctx* ctx, dhl_call* call);
  /* [any] 1 when the client asked for an ack, 0 when not. */
  int (*call_wants_ack)(dhl_ctx* ctx, const dhl_call* call);

  /* [any] Runs fn(user) on the loop thread, soon, in posting order. On
   * DHL_OK it runs exactly once (at the latest while the server stops, before
   * the plugin's shutdown); DHL_ERR_GONE: the host is stopping and nothing
   * was queued. */
  int (*post)(dhl_ctx* ctx, dhl_task_fn fn, void* user);

  /* [loop] Timers: a timer is created disarmed; arm() (re)starts it, so that
   * fn(user) runs once after delay_ms; a timer may be re-armed from its own
   * callback. The plugin destroys every timer it created (also allowed from
   * the timer's callback); the host destroys the rest after shutdown. */
  dhl_timer* (*timer_create)(dhl_ctx* ctx, dhl_timer_fn fn, void* user);
  int (*timer_arm)(dhl_ctx* ctx, dhl_timer* timer, uint64_t delay_ms);
  int (*timer_disarm)(dhl_ctx* ctx, dhl_timer* timer);
  void (*timer_destroy)(dhl_ctx* ctx, dhl_timer* timer);
  /* [loop] Milliseconds of the loop's monotonic clock. */
  uint64_t (*now_ms)(dhl_ctx* ctx);

  /* ---- ABI 1.1: check with DHL_HOST_HAS(host, http_route) ---- */
  /* [loop, during init only] Serves `method` ("GET" or "POST") on `path`
   * (exact match) of the public listener with `fn`. A body above max_body is
   * answered 413 before `fn` runs. DHL_ERR_REFUSED: the path is taken or
   * init is over; DHL_ERR_INVALID: bad method or path. */
  int (*http_route)(dhl_ctx* ctx, dhl_str method, dhl_str path, size_t max_body, dhl_http_fn fn,
                    void* user);
  /* [loop] A header (lower-case name) of the request being answered; empty
   * when absent. Valid until the callback returns. */
  dhl_str (*http_header)(dhl_ctx* ctx, const dhl_http_request* req, dhl_str lower_name);
  /* [loop] How many connected sockets `target` selects on this server
   * (rooms, except, namespace); negative: a DHL_ERR_* code. */
  int64_t (*target_count)(dhl_ctx* ctx, const dhl_target* target);

  /* ---- ABI 1.2: check with DHL_HOST_HAS(host, verify_token) ---- */
  /* [loop] Verifies the JSON Web Token `token` with the server's configured
   * keys and claim rules (the config's `auth` section: the algorithm pinned
   * by the key, exp/nbf/iat with its leeway, maxAge, issuers, the user id
   * claims), except that `audience`, when not absent, replaces the
   * configured audiences (e.g. "push" for a service credential, so that a
   * user's token does not pass). DHL_OK: *claims (when not NULL) is the
   * token's claims, JSON object text. DHL_ERR_REFUSED: the token does not
   * pass; *error (when not NULL) is why, one of the codes a refused client
   * gets (`malformed`, `token_expired`, `invalid_signature`, ...).
   * DHL_ERR_NOTFOUND: the server verifies no tokens (no `auth` section).
   * The strings are valid until the next verify_token call or the return
   * of the current callback, whichever comes first. */
  int (*verify_token)(dhl_ctx* ctx, dhl_str token, dhl_str audience, dhl_str* claims,
                      dhl_str* error);

  /* ---- ABI 1.3: check with DHL_HOST_HAS(host, send_message) ---- */
  /* [loop] Hands a message to the loaded plugin named `plugin`: its
   * on_message(state, <this plugin's name>, topic, json) runs before this
   * returns, and what it returns (0 or more, or a DHL_ERR_*) is returned.
   * `json` is the text of one JSON value. DHL_ERR_NOTFOUND: no such plugin,
   * or it takes no messages, or it is this plugin; DHL_ERR_REFUSED: messages
   * nested too deep (a loop). */
  int (*send_message)(dhl_ctx* ctx, dhl_str plugin, dhl_str topic, dhl_str json);

  /* ---- ABI 1.3, plugins in a cluster: check with DHL_HOST_HAS(host, node_id) ---- */
  /* [any] This node's id: unique per process run (a restarted node has a new
   * one), the same for every plugin. Valid until shutdown returns. */
  dhl_str (*node_id)(dhl_ctx* ctx);
  /* [any] 1 when the server runs as a cluster node (config `cluster`). */
  int (*node_clustered)(dhl_ctx* ctx);
  /* [loop] Sets (fn NULL: clears) this plugin's handler of node membership:
   * fn runs on the loop when a node joins or leaves the cluster (a node that
   * stops refreshing its heartbeat leaves when the heartbeat's TTL ends).
   * Never called for a single node. */
  int (*node_events)(dhl_ctx* ctx, dhl_node_fn fn, void* user);
  /* [loop] Sends one Redis command (argv: binary-safe strings) on the
   * host's own connection. On DHL_OK `fn` runs exactly once on the loop,
   * after at most timeout_ms (0: the host's default); DHL_ERR_UNAVAILABLE:
   * no cluster, or not connected now (fn never runs). Do not use commands
   * that change the connection's state (SUBSCRIBE, MULTI without EXEC in the
   * same call, SELECT, ...). */
  int (*redis_command)(dhl_ctx* ctx, const dhl_str* argv, size_t argc, uint32_t timeout_ms,
                       dhl_redis_fn fn, void* user);
  /* [loop] Runs the Lua `script` with KEYS and ARGV: EVALSHA first, EVAL when
   * Redis does not have the script yet. As redis_command otherwise. */
  int (*redis_script)(dhl_ctx* ctx, dhl_str script, const dhl_str* keys, size_t key_count,
                      const dhl_str* args, size_t arg_count, uint32_t timeout_ms, dhl_redis_fn fn,
                      void* user);
  /* [loop] Sets (fn NULL: clears) this plugin's handler of node messages. */
  int (*node_messages)(dhl_ctx* ctx, dhl_node_message_fn fn, void* user);
  /* [loop] Sends `event` with `args` (JSON only, no attachments) to this
   * plugin's instances on the other nodes (socket.io serverSideEmit, carried
   * by the cluster adapter). fn NULL: no answers wanted. Otherwise fn runs
   * exactly once: DHL_OK when every other node answered (each answer a
   * one-element array), DHL_ERR_TIMEOUT with those that came in time; a
   * single node answers at once with none. */
  int (*node_emit)(dhl_ctx* ctx, dhl_str event, const dhl_payload* args, uint32_t timeout_ms,
                   dhl_broadcast_ack_fn fn, void* user);
  /* [loop, inside the message callback] Answers a node message with one
   * JSON value. DHL_ERR_DONE: answered already or no answer wanted. */
  int (*node_answer)(dhl_ctx* ctx, dhl_node_answer* answer, dhl_str json_value);

  /* ---- ABI 1.4 (branch clusterfin): check with DHL_HOST_HAS(host, http_reply) ---- */
  /* [loop] target_count over every node of the cluster (the sockets the
   * target selects on each node, summed; a single node counts its own). On
   * DHL_OK `fn` runs exactly once on the loop (before this returns on a
   * single node), unless the server stops first; DHL_ERR_INVALID /
   * DHL_ERR_NOTFOUND as target_count (fn never runs). */
  int (*target_count_async)(dhl_ctx* ctx, const dhl_target* target, dhl_count_fn fn, void* user);
  /* [loop, inside an http_route callback only] Takes over the request being
   * answered: what the callback fills in its dhl_http_response is ignored,
   * and the request is answered by http_reply instead. Returns the handle,
   * or NULL when this request was deferred already (or req is not one the
   * host handed over). A request not answered within pluginHost.callTimeout
   * is answered 504 {"error":"timeout"} by the host. */
  dhl_http_reply* (*http_defer)(dhl_ctx* ctx, const dhl_http_request* req);
  /* [loop] Answers a deferred request and frees the handle (exactly once per
   * handle). DHL_OK: sent; DHL_ERR_GONE: the client left, or the server is
   * stopping; DHL_ERR_TIMEOUT: the host had answered it 504 already; all
   * three free the handle. DHL_ERR_THREAD (not on the loop) and
   * DHL_ERR_INVALID (res NULL: the handle stays open; or a handle that is not
   * open: answered already, or another plugin's) free nothing. */
  int (*http_reply)(dhl_ctx* ctx, dhl_http_reply* reply, const dhl_http_response* res);

  /* ---- ABI 1.4 (branch streams): connection-state recovery in a cluster ---- */
  /* [loop] What this plugin keeps with `socket`'s session (save_session)
   * changed. Where sessions outlive the process (cluster.adapter "streams"),
   * the host asks every plugin's save_session again at the end of the loop
   * turn and stores the session, so that another node restores the new state
   * if this one dies. A no-op (DHL_OK) where sessions are kept in memory;
   * DHL_ERR_INVALID for a socket that is not connected. */
  int (*session_changed)(dhl_ctx* ctx, dhl_socket* socket);

  /* ---- ABI 1.5 (branch recovery): check with DHL_HOST_HAS(host, emit_to_logged) ---- */
  /* [loop] emit_to, and `fn` runs once on the loop when the event is where
   * every node and a later recovery find it (cluster.adapter "streams": Redis
   * answered its XADD), with a dhl_status_fn status; unless the server stops
   * first. Where there is no shared log (one node, the pubsub and sharded
   * adapters) fn runs before this returns, with DHL_OK. Returns as emit_to,
   * and DHL_ERR_UNAVAILABLE when Redis is unreachable now (nothing was sent
   * anywhere); fn runs only on DHL_OK. */
  int (*emit_to_logged)(dhl_ctx* ctx, const dhl_target* target, dhl_str event,
                        const dhl_payload* args, dhl_status_fn fn, void* user);
};

/* True when `host` (as passed to init) provides `member`: use before calling
 * a function added after ABI 1.0. */
#define DHL_HOST_HAS(host, member)                                               \
  ((host)->struct_size >= offsetof(dhl_host, member) + sizeof((host)->member) && \
   (host)->member != NULL)

/* ---- What the plugin provides ------------------------------------------ */

/* Called once at load, before any socket, on the loop thread. `config` is
 * host->config(ctx). Store `ctx` and `host` for later. Returns 0 on success;
 * anything else fails the load (and the server start-up) after the plugin
 * has logged why; the plugin must have released what it took. *state is
 * handed back to every other callback. */
typedef int (*dhl_init_fn)(dhl_ctx* ctx, const dhl_host* host, void** state);
/* Called once when the server stops (never after a failed init), after the
 * last socket callback. Join your threads here: no host function may be
 * called after shutdown returns. */
typedef void (*dhl_shutdown_fn)(void* state);
/* A socket connected (every plugin, in load order). */
typedef void (*dhl_connect_fn)(void* state, dhl_socket* socket);
/* A socket left (every plugin whose on_connect ran, in load order).
 * `reason` is Socket.IO's ("transport close", "client namespace
 * disconnect", ...). Answers to its pending calls are dropped from now on. */
typedef void (*dhl_disconnect_fn)(void* state, dhl_socket* socket, dhl_str reason);
/* A `$`-method: `args` is the event's arguments (after the name). Answer
 * `call` as described above. */
typedef void (*dhl_method_fn)(void* state, dhl_socket* socket, dhl_call* call,
                              const dhl_payload* args);
/* ABI 1.3: a message from plugin `from` (host->send_message), on the loop
 * thread. Returns 0 or more on success (a count, as the two plugins agree)
 * or a negative DHL_ERR_*, handed back to the sender. The strings are
 * borrowed for the call. */
typedef int (*dhl_message_fn)(void* state, dhl_str from, dhl_str topic, dhl_str json);

/* ---- Connection-state recovery (ABI 1.2) --------------------------------- */
/* A socket leaves for a recoverable reason (its connection broke, the server
 * shuts down) while recovery is on; called before on_disconnect. The plugin
 * may set *saved to bytes to keep with the session (left {NULL, 0}: nothing);
 * they must stay valid until the plugin's next callback (the host copies them
 * right after this returns). */
typedef void (*dhl_session_save_fn)(void* state, dhl_socket* socket, dhl_str* saved);
/* A recovered socket, before this plugin's on_connect: the bytes its
 * save_session gave when the session was saved (only when it gave some). */
typedef void (*dhl_session_restore_fn)(void* state, dhl_socket* socket, dhl_str saved);

typedef struct dhl_method {
  const char* name; /* NUL-terminated, "$" + the event name, e.g. "$ready" */
  dhl_method_fn fn;
} dhl_method;

typedef struct dhl_plugin_desc {
  size_t struct_size; /* sizeof(dhl_plugin_desc) as the plugin was built */
  uint32_t abi_major; /* DHL_ABI_MAJOR */
  uint32_t abi_minor; /* DHL_ABI_MINOR */
  const char* name;   /* NUL-terminated, e.g. "lessons" */
  const char* version;
  dhl_init_fn init;                /* may be NULL */
  dhl_shutdown_fn shutdown;        /* may be NULL */
  dhl_connect_fn on_connect;       /* may be NULL */
  dhl_disconnect_fn on_disconnect; /* may be NULL */
  const dhl_method* methods;       /* method_count entries; names unique across
                                      all loaded plugins */
  size_t method_count;
  /* ---- ABI 1.2: read by the host only when struct_size covers them ---- */
  dhl_session_save_fn save_session;       /* may be NULL */
  dhl_session_restore_fn restore_session; /* may be NULL */
  /* ---- ABI 1.3 ---- */
  dhl_message_fn on_message; /* may be NULL: takes no messages */
} dhl_plugin_desc;

/* The entry function's type. It must be cheap and have no side effects: it
 * may be called more than once. The descriptor must stay valid while the
 * plugin is loaded. */
typedef const dhl_plugin_desc* (*dhl_entry_fn)(void);

/* The entry function every plugin defines (DHL_PLUGIN_ENTRY { ... }); a unit
 * test linking the plugin in calls it directly. */
DHL_EXPORT const dhl_plugin_desc* dhl_plugin_v1(void);

#ifdef __cplusplus
}
#endif

#endif /* DAHEIM_PLUGIN_H */
