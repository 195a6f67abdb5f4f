// loop::Reactor on libwebsockets: each watched descriptor is a dup()
// adopted as a raw-file wsi of the "daheim-fd" protocol, so lws polls it on
// whichever event loop it runs (poll, libuv, libev) and we do the reads and
// writes on the original. lws closes its dup when the wsi goes; the owner
// closes the original. Service thread only.
#pragma once

#include <memory>

#include "loop/fd_watch.hpp"

struct lws;
struct lws_vhost;
struct lws_protocols;

namespace daheim::transport {

class LwsReactor final : public loop::Reactor {
 public:
  // Descriptors are adopted on `vhost` (any of the server's).
  void attach(lws_vhost* vhost) { vhost_ = vhost; }
  std::unique_ptr<loop::FdWatch> watch(int fd, loop::FdEvents& events) override;

  // The "daheim-fd" protocol's callback (the context's protocol list).
  static int callback(lws* wsi, int reason, void* user, void* in, std::size_t len);
  static constexpr const char* kProtocol = "daheim-fd";

 private:
  lws_vhost* vhost_ = nullptr;
};

}  // namespace daheim::transport
