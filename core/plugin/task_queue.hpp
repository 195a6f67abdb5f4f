// Work for the loop thread, queued from any thread: plugins' posted tasks
// and their deferred replies. One wake-up through the LoopPoster per batch.
// Each task remembers the plugin it belongs to, so that a plugin whose init
// failed can have its tasks discarded before it is unloaded.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "plugin/loop_poster.hpp"

struct dhl_ctx;

namespace daheim::plugin {

class TaskQueue {
 public:
  explicit TaskQueue(LoopPoster& poster);
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  // [any thread] false: closed (or the loop is gone); `task` was not queued.
  bool push(const dhl_ctx* owner, std::function<void()> task);
  // [loop] Runs what is queued now (tasks queued meanwhile wait for the
  // next wake-up).
  void run();
  // [loop] Refuses further tasks; the queued ones stay for run().
  void close();
  // [loop] Discards the queued tasks of `owner` without running them.
  void discard(const dhl_ctx* owner);

 private:
  struct Task {
    const dhl_ctx* owner;
    std::function<void()> fn;
  };
  struct Shared {
    std::mutex mutex;
    std::vector<Task> tasks;
    bool scheduled = false;
    bool closed = false;
    TaskQueue* queue = nullptr;  // cleared when the queue goes
  };

  LoopPoster& poster_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace daheim::plugin
