/* The idle-memory floor: a libwebsockets server with daheim-live's lws
 * settings (libuv as a foreign loop, a 512-byte receive buffer, 16 KiB of
 * header space, no validity timers, the same send cap) that accepts
 * WebSocket connections and holds them. It says only the two things the load
 * generator waits for: the Engine.IO open packet when a connection is
 * established, and a Socket.IO CONNECT ack for a CONNECT. Nothing is kept per
 * connection but one byte of state.
 *
 *   daheim-lws-floor PORT     prints "listening on http://127.0.0.1:PORT" when ready
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

enum { kSendOpen = 1, kSendConnectAck = 2 };

static const char kOpen[] =
    "0{\"sid\":\"floor\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
    "\"maxPayload\":1000000}";
static const char kConnectAck[] = "40{\"sid\":\"floor\"}";

static int send_text(struct lws* wsi, const char* text) {
  unsigned char buf[LWS_PRE + 128];
  size_t n = strlen(text);
  memcpy(buf + LWS_PRE, text, n);
  return lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

static int callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                    size_t len) {
  unsigned char* pending = (unsigned char*)user;
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      *pending = kSendOpen;
      lws_callback_on_writable(wsi);
      return 0;
    case LWS_CALLBACK_RECEIVE:
      if (len >= 2 && memcmp(in, "40", 2) == 0) {
        *pending |= kSendConnectAck;
        lws_callback_on_writable(wsi);
      }
      return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
      if (*pending & kSendOpen) {
        *pending &= (unsigned char)~kSendOpen;
        if (send_text(wsi, kOpen)) return -1;
        if (*pending) lws_callback_on_writable(wsi);
        return 0;
      }
      if (*pending & kSendConnectAck) {
        *pending = 0;
        return send_text(wsi, kConnectAck);
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

static struct lws_protocols protocols[] = {
    {"floor", callback, 1, 512, 0, NULL, (size_t)16 << 20},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static uv_loop_t loop;
static struct lws_context* context;
static uv_signal_t sigterm;

static void on_signal(uv_signal_t* s, int signum) {
  (void)signum;
  uv_signal_stop(s);
  uv_close((uv_handle_t*)s, NULL);
  lws_context_destroy(context);
}

int main(int argc, char** argv) {
  static const lws_retry_bo_t no_validity_checks;
  struct lws_context_creation_info info;
  void* foreign[1];
  lws_set_log_level(LLL_ERR, NULL);
  uv_loop_init(&loop);
  foreign[0] = &loop;
  memset(&info, 0, sizeof info);
  info.port = argc > 1 ? atoi(argv[1]) : 0;
  info.iface = "127.0.0.1";
  info.protocols = protocols;
  info.options =
      LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8;
  info.foreign_loops = foreign;
  info.max_http_header_data = 16384;
  info.timeout_secs = 30;
  info.keepalive_timeout = 60;
  info.retry_and_idle_policy = &no_validity_checks;
  context = lws_create_context(&info);
  if (!context) return 1;
  printf("listening on http://127.0.0.1:%d\n",
         lws_get_vhost_listen_port(lws_get_vhost_by_name(context, "default")));
  fflush(stdout);
  uv_signal_init(&loop, &sigterm);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return 0;
}
