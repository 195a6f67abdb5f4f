#include "plugin/task_queue.hpp"

#include <utility>

namespace daheim::plugin {

TaskQueue::TaskQueue(LoopPoster& poster) : poster_(poster), shared_(std::make_shared<Shared>()) {
  shared_->queue = this;
}

TaskQueue::~TaskQueue() {
  std::lock_guard lock(shared_->mutex);
  shared_->queue = nullptr;
  shared_->closed = true;
  shared_->tasks.clear();
}

bool TaskQueue::push(const dhl_ctx* owner, std::function<void()> task) {
  bool wake = false;
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->closed) return false;
    shared_->tasks.push_back({owner, std::move(task)});
    wake = !std::exchange(shared_->scheduled, true);
  }
  if (!wake) return true;
  // The wake-up holds the shared state only weakly: if it outlives the
  // queue (the loop runs it late) it does nothing.
  std::weak_ptr<Shared> weak = shared_;
  if (poster_.post([weak] {
        if (auto s = weak.lock(); s && s->queue) s->queue->run();
      }))
    return true;
  std::lock_guard lock(shared_->mutex);
  shared_->scheduled = false;  // the loop is gone: run() at shutdown takes them
  return true;
}

void TaskQueue::run() {
  std::vector<Task> batch;
  {
    std::lock_guard lock(shared_->mutex);
    batch.swap(shared_->tasks);
    shared_->scheduled = false;
  }
  for (Task& t : batch) t.fn();
}

void TaskQueue::close() {
  std::lock_guard lock(shared_->mutex);
  shared_->closed = true;
}

void TaskQueue::discard(const dhl_ctx* owner) {
  std::vector<Task> dropped;
  {
    std::lock_guard lock(shared_->mutex);
    auto& tasks = shared_->tasks;
    for (auto it = tasks.begin(); it != tasks.end();) {
      if (it->owner == owner) {
        dropped.push_back(std::move(*it));
        it = tasks.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace daheim::plugin
