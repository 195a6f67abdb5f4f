// libFuzzer target for the HTTP request handling as the transport does it: libwebsockets parses
// the raw bytes (request line, headers, URI arguments) exactly as for a real connection, and the
// transport's own readers (core/transport/http_util: read_request, read_headers,
// read_header_named, request_url) and Engine.IO's request checks (verify_request) then run on
// what it parsed, from the same callbacks the server uses (LWS_CALLBACK_HTTP and
// LWS_CALLBACK_HTTP_CONFIRM_UPGRADE).
//
// The input is what a client sends on one connection. It is handed to lws with
// lws_adopt_socket_readbuf() on one end of a socketpair whose other end is closed, so lws sees
// the bytes and then the end of the stream.
//
// Checked: query names hold no '=', the URL starts with the path and names every parameter,
// header names are lower case and found again by name.
//
// Run: ./scripts/fuzz.sh SECONDS, or see meson.build.
#include <libwebsockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engineio/request.hpp"
#include "transport/http_util.hpp"

namespace {

using namespace daheim;

constexpr std::size_t kMaxHeader = 8192;
bool g_destroyed = false;
lws* g_wsi = nullptr;

void examine(lws* wsi) {
  transport::HttpRequest req = transport::read_request(wsi, kMaxHeader);
  std::string url = transport::request_url(req);
  if (url.rfind(req.path, 0) != 0) std::abort();
  for (const auto& [name, value] : req.query) {
    if (name.find('=') != std::string::npos) std::abort();
    if (url.find(name) == std::string::npos) std::abort();
  }
  engineio::HeaderList headers =
      transport::read_headers(wsi, engineio::HeaderFilter{engineio::HeaderFilter::Mode::All, {}});
  for (std::size_t i = 0; i < headers.size(); ++i) {
    auto [name, value] = headers.at(i);
    for (char c : name)
      if (std::isupper(static_cast<unsigned char>(c))) std::abort();
    if (!headers.find(name)) std::abort();
  }
  transport::read_header_named(wsi, "authorization");
  transport::read_header_named(wsi, "x-forwarded-for");
  engineio::RequestInfo info;
  info.method = req.method;
  info.eio = req.query_param("EIO");
  info.transport = req.query_param("transport");
  info.sid = req.query_param("sid");
  info.origin = req.origin ? &*req.origin : nullptr;
  info.websocket_upgrade = transport::read_header(wsi, WSI_TOKEN_UPGRADE).has_value();
  auto error = engineio::verify_request(info, {}, {true, false});
  if (error && engineio::error_body(*error).empty()) std::abort();
}

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  switch (reason) {
    case LWS_CALLBACK_HTTP:
      examine(wsi);
      return -1;  // close without answering
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      examine(wsi);
      return 1;  // refuse the upgrade
    case LWS_CALLBACK_WSI_DESTROY:
      if (wsi == g_wsi) g_destroyed = true;
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

lws_protocols g_protocols[] = {
    {"http", callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

lws_context* context() {
  static lws_context* ctx = [] {
    std::signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(0, nullptr);
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    info.protocols = g_protocols;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.max_http_header_data = kMaxHeader;
    lws_context* c = lws_create_context(&info);
    if (!c) std::abort();
    return c;
  }();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lws_context* ctx = context();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  close(fds[1]);
  g_destroyed = false;
  g_wsi = lws_adopt_socket_readbuf(ctx, fds[0], reinterpret_cast<const char*>(data), size);
  if (!g_wsi) return 0;  // lws closed the fd
  for (int turn = 0; turn < 100 && !g_destroyed; ++turn) lws_service(ctx, -1);
  if (!g_destroyed) {
    lws_set_timeout(g_wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
    if (!g_destroyed) std::abort();  // the connection is still open
  }
  return 0;
}
