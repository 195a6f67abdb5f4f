#include "transport/loop_prepare.hpp"

#define EV_COMPAT3 0
#include <ev.h>
#include <uv.h>

namespace daheim::transport {

struct LoopPrepare::Uv {
  uv_prepare_t handle;
};

struct LoopPrepare::Ev {
  ev_prepare watcher;
  struct ev_loop* loop;
};

LoopPrepare::LoopPrepare(std::function<void()> fn) : fn_(std::move(fn)) {}

LoopPrepare::~LoopPrepare() {
  stop();
}

void LoopPrepare::start(uv_loop_s* loop) {
  uv_ = new Uv;
  uv_prepare_init(loop, &uv_->handle);
  uv_->handle.data = this;
  uv_prepare_start(&uv_->handle,
                   [](uv_prepare_t* h) { static_cast<LoopPrepare*>(h->data)->run(); });
}

void LoopPrepare::start(struct ev_loop* loop) {
  ev_ = new Ev;
  ev_->loop = loop;
  ev_prepare_init(&ev_->watcher, [](struct ev_loop*, ev_prepare* w, int) {
    static_cast<LoopPrepare*>(w->data)->run();
  });
  ev_->watcher.data = this;
  ev_prepare_start(loop, &ev_->watcher);
}

void LoopPrepare::stop() {
  if (uv_) {
    // The loop frees nothing of ours: the handle is released on close.
    uv_prepare_stop(&uv_->handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&uv_->handle),
             [](uv_handle_t* h) { delete reinterpret_cast<Uv*>(h); });
    uv_ = nullptr;
  }
  if (ev_) {
    ev_prepare_stop(ev_->loop, &ev_->watcher);
    delete ev_;
    ev_ = nullptr;
  }
}

}  // namespace daheim::transport
