/* A C99 plugin built against the frozen ABI 1.0 header only (tests/abi/v1):
 * today's host must keep loading it and serving every call it makes. */
#include <daheim/plugin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

static const dhl_host* g_host;
static dhl_ctx* g_ctx;
static pthread_t g_threads[MAX_THREADS];
static int g_thread_count;

static dhl_str s(const char* text) {
  dhl_str r;
  r.ptr = text;
  r.len = strlen(text);
  return r;
}

static dhl_payload json(const char* text) {
  dhl_payload p;
  p.json = text;
  p.json_len = strlen(text);
  p.attachments = NULL;
  p.attachment_count = 0;
  return p;
}

static int init(dhl_ctx* ctx, const dhl_host* host, void** state) {
  char line[256];
  dhl_str config;
  g_host = host;
  g_ctx = ctx;
  *state = NULL;
  if (host->abi_major != DHL_ABI_MAJOR || !DHL_HOST_HAS(host, now_ms)) return 1;
  config = host->config(ctx);
  snprintf(line, sizeof line, "abi-v1 init, config %.*s", (int)config.len, config.ptr);
  host->log(ctx, DHL_LOG_NOTICE, s(line));
  return 0;
}

static void shutdown_(void* state) {
  int i;
  (void)state;
  for (i = 0; i < g_thread_count; ++i) pthread_join(g_threads[i], NULL);
  g_host->log(g_ctx, DHL_LOG_NOTICE, s("abi-v1 shutdown"));
}

static void on_connect(void* state, dhl_socket* socket) {
  char args[64];
  dhl_str id = g_host->socket_info(g_ctx, socket, DHL_INFO_ID);
  dhl_payload p;
  (void)state;
  g_host->socket_set_data(g_ctx, socket, calloc(1, sizeof(int)));
  snprintf(args, sizeof args, "[\"%.*s\"]", (int)id.len, id.ptr);
  p = json(args);
  g_host->emit(g_ctx, socket, s("abi-hello"), &p);
}

static void on_disconnect(void* state, dhl_socket* socket, dhl_str reason) {
  (void)state;
  (void)reason;
  free(g_host->socket_data(g_ctx, socket));
  g_host->socket_set_data(g_ctx, socket, NULL);
}

static void echo(void* state, dhl_socket* socket, dhl_call* call, const dhl_payload* args) {
  (void)state;
  (void)socket;
  g_host->reply(g_ctx, call, args);
}

static void count(void* state, dhl_socket* socket, dhl_call* call, const dhl_payload* args) {
  int* n = (int*)g_host->socket_data(g_ctx, socket);
  char text[32];
  dhl_payload p;
  (void)state;
  (void)args;
  snprintf(text, sizeof text, "[%d]", ++*n);
  p = json(text);
  g_host->reply(g_ctx, call, &p);
}

static void error(void* state, dhl_socket* socket, dhl_call* call, const dhl_payload* args) {
  (void)state;
  (void)socket;
  (void)args;
  g_host->reply_error(g_ctx, call, s("abiError"));
}

static void* answer_later(void* arg) {
  dhl_call* call = (dhl_call*)arg;
  dhl_payload p = json("[\"later\"]");
  struct timespec ten_ms = {0, 10 * 1000 * 1000};
  nanosleep(&ten_ms, NULL);
  g_host->reply(g_ctx, call, &p);
  return NULL;
}

static void later(void* state, dhl_socket* socket, dhl_call* call, const dhl_payload* args) {
  dhl_call* deferred = g_host->call_defer(g_ctx, call);
  (void)state;
  (void)socket;
  (void)args;
  if (g_thread_count == MAX_THREADS ||
      pthread_create(&g_threads[g_thread_count], NULL, answer_later, deferred) != 0) {
    g_host->reply_error(g_ctx, deferred, s("noThread"));
    return;
  }
  ++g_thread_count;
}

/* A timer that emits abi-tick to the socket whose id it keeps, then destroys itself. */
typedef struct {
  dhl_timer* timer;
  char id[32];
} tick;

static void on_tick(void* user) {
  tick* t = (tick*)user;
  dhl_str nsp = {"/", 1};
  dhl_socket* socket = g_host->socket_find(g_ctx, nsp, s(t->id));
  dhl_payload p = json("[\"tick\"]");
  if (socket) g_host->emit(g_ctx, socket, s("abi-tick"), &p);
  g_host->timer_destroy(g_ctx, t->timer);
  free(t);
}

static void timer(void* state, dhl_socket* socket, dhl_call* call, const dhl_payload* args) {
  tick* t = (tick*)calloc(1, sizeof(tick));
  dhl_str id = g_host->socket_info(g_ctx, socket, DHL_INFO_ID);
  dhl_payload p = json("[true]");
  (void)state;
  (void)args;
  snprintf(t->id, sizeof t->id, "%.*s", (int)id.len, id.ptr);
  t->timer = g_host->timer_create(g_ctx, on_tick, t);
  g_host->timer_arm(g_ctx, t->timer, 20);
  g_host->reply(g_ctx, call, &p);
}

static const dhl_method k_methods[] = {
    {"$abi.echo", echo},   {"$abi.count", count}, {"$abi.error", error},
    {"$abi.later", later}, {"$abi.timer", timer},
};

static const dhl_plugin_desc k_desc = {sizeof(dhl_plugin_desc),
                                       DHL_ABI_MAJOR,
                                       DHL_ABI_MINOR,
                                       "abi-v1",
                                       "1.0.0",
                                       init,
                                       shutdown_,
                                       on_connect,
                                       on_disconnect,
                                       k_methods,
                                       sizeof k_methods / sizeof k_methods[0]};

DHL_PLUGIN_ENTRY;
DHL_PLUGIN_ENTRY {
  return &k_desc;
}
