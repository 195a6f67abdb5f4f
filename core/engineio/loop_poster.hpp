// Runs work on the event-loop thread, posted from any thread (plugins'
// asynchronous replies). The transport
// implements it on libwebsockets (transport::LoopInbox); tests run the
// posted tasks by hand. Pure: no libwebsockets here.
#pragma once

#include <functional>

namespace daheim::engineio {

class LoopPoster {
 public:
  virtual ~LoopPoster() = default;
  // [any thread] Queues `task` to run on the loop thread soon, in posting
  // order. false: the loop runs no more tasks and `task` was not queued.
  virtual bool post(std::function<void()> task) = 0;
};

}  // namespace daheim::engineio
