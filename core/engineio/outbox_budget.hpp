// The bytes all sessions of one endpoint have queued for their clients,
// summed: what engineio.maxBufferedBytesTotal bounds. Each Session adds what
// it queues and removes what it hands out or drops; the transport compares
// the sum with the budget at the end of every loop turn and closes the
// sessions with the largest backlogs first. Loop thread only.
#pragma once

#include <cstddef>

namespace daheim::engineio {

class OutboxBudget {
 public:
  void add(std::size_t bytes) { total_ += bytes; }
  void remove(std::size_t bytes) { total_ -= bytes; }
  std::size_t total() const { return total_; }

 private:
  std::size_t total_ = 0;
};

}  // namespace daheim::engineio
