#include "transport/uv_poll_rearm.hpp"

#include <dlfcn.h>
#include <sys/epoll.h>
#include <uv.h>

#include <cstddef>
#include <vector>

namespace daheim::transport::uv_rearm {
namespace {

using StartFn = int (*)(uv_poll_t*, int, uv_poll_cb);

constexpr int kReadWrite = UV_READABLE | UV_WRITABLE;
constexpr unsigned kEpollReadWrite = EPOLLIN | EPOLLOUT;

// A writable answered without epoll, delivered at the end of the turn if
// `watcher` still watches `fd` on `loop` then.
struct Pending {
  uv_loop_t* loop;
  int fd;
  uv__io_t* watcher;
};

thread_local int t_known_writable = -1;
thread_local std::vector<Pending> t_pending;

// libuv's own, the next definition after this executable's.
StartFn libuv_start() {
  static const auto fn = reinterpret_cast<StartFn>(dlsym(RTLD_NEXT, "uv_poll_start"));
  return fn;
}

bool known_version() {
  static const bool known = [] {
    unsigned v = uv_version();
    return (v >> 16) == 1 && ((v >> 8) & 0xff) == 44;
  }();
  return known;
}

unsigned to_epoll(int uv_events) {
  return ((uv_events & UV_READABLE) ? EPOLLIN : 0u) | ((uv_events & UV_WRITABLE) ? EPOLLOUT : 0u);
}

// libuv's QUEUE_EMPTY on the watcher queue: no change waits for its next poll.
bool queued(const uv__io_t& w) {
  return w.watcher_queue[0] != static_cast<const void*>(&w.watcher_queue);
}

// Started, not closing, and registered in epoll with what it watches (readable
// and/or writable only), as libuv's poll leaves a handle.
bool registered(const uv_poll_t* handle) {
  const auto* h = reinterpret_cast<const uv_handle_t*>(handle);
  const uv__io_t& w = handle->io_watcher;
  return uv_is_active(h) && !uv_is_closing(h) && w.pevents != 0 && w.events == w.pevents &&
         (w.pevents & ~kEpollReadWrite) == 0 && !queued(w);
}

// Started in this turn (after a stop, say) and not polled since: libuv adds it
// with its pending events at its next poll, and nothing is in epoll yet.
bool added_at_next_poll(const uv_poll_t* handle) {
  const auto* h = reinterpret_cast<const uv_handle_t*>(handle);
  const uv__io_t& w = handle->io_watcher;
  return uv_is_active(h) && !uv_is_closing(h) && w.events == 0 && w.pevents != 0 &&
         (w.pevents & ~kEpollReadWrite) == 0 && queued(w) &&
         static_cast<unsigned>(w.fd) < handle->loop->nwatchers &&
         handle->loop->watchers[w.fd] == &w;
}

// True when the handle now watches `uv_events`; false leaves it to libuv.
bool rearm(uv_poll_t* handle, int uv_events, uv_poll_cb cb) {
  if (!active() || uv_events == 0 || (uv_events & ~kReadWrite) != 0 || cb != handle->poll_cb)
    return false;
  bool in_epoll = registered(handle);
  if (!in_epoll && !added_at_next_poll(handle)) return false;
  uv__io_t& w = handle->io_watcher;
  unsigned want = to_epoll(uv_events);
  if (want == w.pevents) return true;
  if (w.fd == t_known_writable && want == (w.pevents | EPOLLOUT)) {
    t_known_writable = -1;
    t_pending.push_back({handle->loop, w.fd, &w});
    return true;
  }
  if (!in_epoll) {
    w.pevents = want;  // what libuv's next poll adds
    return true;
  }
  epoll_event e{};
  e.events = want;
  e.data.fd = w.fd;
  if (epoll_ctl(uv_backend_fd(handle->loop), EPOLL_CTL_MOD, w.fd, &e) != 0) return false;
  w.pevents = want;
  w.events = want;
  return true;
}

}  // namespace

bool active() {
  return known_version() && libuv_start() != nullptr;
}

bool armed_with(const uv_poll_s* handle, int uv_events) {
  return registered(handle) && handle->io_watcher.pevents == to_epoll(uv_events);
}

KnownWritable::KnownWritable(int fd) {
  t_known_writable = fd;
}

KnownWritable::~KnownWritable() {
  t_known_writable = -1;
}

void deliver_writable() {
  if (t_pending.empty()) return;
  thread_local std::vector<Pending> list;
  list.swap(t_pending);
  for (const Pending& p : list) {
    // Stopped (or closed, and perhaps freed) since: libuv no longer has it.
    if (static_cast<unsigned>(p.fd) >= p.loop->nwatchers || p.loop->watchers[p.fd] != p.watcher)
      continue;
    auto* handle = reinterpret_cast<uv_poll_t*>(reinterpret_cast<char*>(p.watcher) -
                                                offsetof(uv_poll_t, io_watcher));
    auto* h = reinterpret_cast<const uv_handle_t*>(handle);
    if (!uv_is_active(h) || uv_is_closing(h) || !handle->poll_cb) continue;
    handle->poll_cb(handle, 0, UV_WRITABLE);
  }
  list.clear();
}

void forget(uv_loop_s* loop) {
  std::erase_if(t_pending, [loop](const Pending& p) { return p.loop == loop; });
}

}  // namespace daheim::transport::uv_rearm

// Interposes libuv's: lws's libuv glue, loaded by lws at run time, binds to
// the executable's definition (exported: transport_dep's link arguments).
extern "C" __attribute__((visibility("default"))) int uv_poll_start(uv_poll_t* handle, int events,
                                                                    uv_poll_cb cb) {
  if (daheim::transport::uv_rearm::rearm(handle, events, cb)) return 0;
  auto start = daheim::transport::uv_rearm::libuv_start();
  return start ? start(handle, events, cb) : UV_ENOSYS;
}
