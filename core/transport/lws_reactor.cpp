#include "transport/lws_reactor.hpp"

#include <fcntl.h>
#include <libwebsockets.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace daheim::transport {
namespace {

class LwsWatch;

// lws 4.1 clears a raw file's POLLOUT after its WRITEABLE callback has run
// (ops-raw-file.c), so a writability request made inside that callback (a
// send() that hit EAGAIN there) was lost, and the owner, waiting for
// on_writable(), never wrote the rest: a Redis connection stalled for good
// after 10,000 sessions saved at once in a drain. Such a request is made
// again after the callback, on the wake-up (EVENT_WAIT_CANCELLED) that
// lws_cancel_service() causes.
thread_local lws* t_writing = nullptr;
thread_local std::vector<LwsWatch*> t_rearm;

class LwsWatch final : public loop::FdWatch {
 public:
  explicit LwsWatch(loop::FdEvents& events) : events_(events) {}
  ~LwsWatch() override {
    std::erase(t_rearm, this);
    if (wsi_ == nullptr) return;
    lws_set_opaque_user_data(wsi_, nullptr);
    // Its dup() stays open until lws kills the wsi (a turn or more later;
    // on libev only from an idle watcher): no POLLIN meanwhile, or a socket
    // with bytes for its new owner (a connection handed to lws) or at EOF
    // would be reported readable to nobody every turn.
    lws_rx_flow_control(wsi_, 0);
    lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
  void want_write() override {
    if (wsi_ == nullptr) return;
    if (wsi_ != t_writing) {
      lws_callback_on_writable(wsi_);
      return;
    }
    if (std::find(t_rearm.begin(), t_rearm.end(), this) == t_rearm.end()) t_rearm.push_back(this);
    lws_cancel_service(lws_get_context(wsi_));
  }
  void pause_read() override {
    if (wsi_ != nullptr) lws_rx_flow_control(wsi_, 0);
  }
  void resume_read() override {
    if (wsi_ != nullptr) lws_rx_flow_control(wsi_, 1);
  }
  void rearm() {
    if (wsi_ != nullptr) lws_callback_on_writable(wsi_);
  }
  void set_wsi(lws* wsi) { wsi_ = wsi; }
  loop::FdEvents& events() { return events_; }

 private:
  loop::FdEvents& events_;
  lws* wsi_ = nullptr;
};

void rearm_all() {
  std::vector<LwsWatch*> list;
  list.swap(t_rearm);
  for (LwsWatch* w : list) w->rearm();
}

}  // namespace

std::unique_ptr<loop::FdWatch> LwsReactor::watch(int fd, loop::FdEvents& events) {
  if (vhost_ == nullptr) return nullptr;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return nullptr;
  auto w = std::make_unique<LwsWatch>(events);
  lws_sock_file_fd_type u;
  u.filefd = copy;
  lws* wsi = lws_adopt_descriptor_vhost(vhost_, LWS_ADOPT_RAW_FILE_DESC, u, kProtocol, nullptr);
  if (wsi == nullptr) {
    close(copy);
    return nullptr;
  }
  lws_set_opaque_user_data(wsi, w.get());
  w->set_wsi(wsi);
  return w;
}

int LwsReactor::callback(lws* wsi, int reason, void* user, void* in, std::size_t len) {
  auto* w = static_cast<LwsWatch*>(lws_get_opaque_user_data(wsi));
  switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
      if (w != nullptr) w->events().on_readable();
      return 0;
    case LWS_CALLBACK_RAW_WRITEABLE_FILE:
      if (w == nullptr) return 0;
      t_writing = wsi;
      w->events().on_writable();  // may destroy w
      t_writing = nullptr;
      return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      rearm_all();
      return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      // lws gave up the descriptor (hang-up or error): the owner finds out
      // by reading.
      if (w != nullptr) {
        lws_set_opaque_user_data(wsi, nullptr);
        w->set_wsi(nullptr);
        w->events().on_readable();
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, static_cast<lws_callback_reasons>(reason), user, in, len);
  }
}

}  // namespace daheim::transport
