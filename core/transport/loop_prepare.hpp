// Runs a function on every turn of a libuv or libev loop, just before it
// waits for events: what timers and other callbacks left to do (frames
// queued for writing) is done before the loop sleeps. Service thread only.
#pragma once

#include <functional>

struct uv_loop_s;
struct ev_loop;

namespace daheim::transport {

class LoopPrepare {
 public:
  explicit LoopPrepare(std::function<void()> fn);
  ~LoopPrepare();
  LoopPrepare(const LoopPrepare&) = delete;
  LoopPrepare& operator=(const LoopPrepare&) = delete;

  void start(uv_loop_s* loop);
  void start(struct ev_loop* loop);
  // Stops it; on libuv the handle is closed by the loop's next run.
  void stop();
  void run() { fn_(); }

 private:
  struct Uv;
  struct Ev;
  std::function<void()> fn_;
  Uv* uv_ = nullptr;  // freed by its close callback
  Ev* ev_ = nullptr;
};

}  // namespace daheim::transport
