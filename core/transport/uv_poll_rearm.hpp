// libuv's uv_poll_start() for this process, re-arming an armed poll handle in
// place. libuv 1.44 (Debian 12) turns every uv_poll_start() into an
// EPOLL_CTL_DEL at once and an EPOLL_CTL_ADD at the next poll, even when the
// events do not change; lws's libuv glue (lib/event-libs/libuv/libuv.c,
// elops_io_uv) calls it on every POLLIN/POLLOUT change lws makes, three per
// HTTP/1.1 keep-alive transaction, so a long-polling ack cost 12 epoll_ctl
// (BENCHMARKS.md §10.8). The uv_poll_start() defined in uv_poll_rearm.cpp
// takes the calls of lws's glue (symbol interposition: the executable's
// definition comes first) and, on a handle that is armed and registered:
// - the same events again: nothing (no system call);
// - other readable/writable events: one EPOLL_CTL_MOD, libuv's state updated
//   as its own poll would have left it;
// - writable added to a readable socket that is known to be writable (a
//   KnownWritable in scope for its descriptor): no system call either; the
//   writable event is delivered by deliver_writable() at the end of the turn.
// On a handle started in this turn and not added yet (libuv adds it at its
// next poll) the same, except that other events cost no system call: libuv
// adds it with them. Everything else (a stopped handle, one registered whose
// change libuv has queued, other event bits, another callback, another libuv
// version) goes to libuv's own.
#pragma once

struct uv_loop_s;
struct uv_poll_s;

namespace daheim::transport::uv_rearm {

// Whether the in-place path is on: libuv 1.44 on Linux, the version whose
// internals (uv__io_t's pevents/events, the watcher queue, the epoll backend)
// it was written against. Otherwise every call goes to libuv unchanged.
bool active();

// Whether `handle` is armed and registered with exactly `uv_events`
// (UV_READABLE | UV_WRITABLE) as libuv's poll would leave it; for tests.
bool armed_with(const uv_poll_s* handle, int uv_events);

// While one is in scope, the first request for writable on descriptor `fd`
// (on a handle armed readable) is answered without epoll: the caller knows the
// socket takes what is written next and nothing waits to be written. Used
// around lws_http_transaction_completed(), which always asks for writable
// before it reads the next request on a keep-alive connection and writes
// nothing when it comes. Service thread only; not nested.
class KnownWritable {
 public:
  explicit KnownWritable(int fd);
  ~KnownWritable();
  KnownWritable(const KnownWritable&) = delete;
  KnownWritable& operator=(const KnownWritable&) = delete;
};

// Calls the poll callback of each handle whose writable was answered that
// way, with UV_WRITABLE, unless the handle was stopped or closed since. Called
// at the end of each loop turn, outside any callback of the handles.
void deliver_writable();

// Drops what deliver_writable() would deliver on `loop` (before it is closed).
void forget(uv_loop_s* loop);

}  // namespace daheim::transport::uv_rearm
