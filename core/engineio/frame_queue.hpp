// A session's outgoing frames, first in first out. One frame is kept in the
// queue itself, so a session that has one frame at a time to send (an echo,
// a heartbeat) never allocates; more than one go to a ring on the heap, which
// is given back once drained, so an idle session holds no heap storage. The
// ring's positions live with it on the heap: 24 bytes in every session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engineio/packet.hpp"

namespace daheim::engineio {

class FrameQueue {
 public:
  static constexpr uint32_t kFirstHeapSlots = 4;

  bool empty() const { return size() == 0; }
  std::size_t size() const { return ring_ ? ring_->size : one_ ? 1 : 0; }
  const FramePtr& front() const { return ring_ ? ring_->slots[ring_->head] : one_; }
  // Slots on the heap (0: only the one in the queue itself).
  std::size_t capacity() const { return ring_ ? ring_->capacity : 0; }

  // `frame` is not null.
  void push_back(FramePtr frame) {
    if (!ring_ && !one_) {
      one_ = std::move(frame);
      return;
    }
    if (!ring_ || ring_->size == ring_->capacity) grow();
    Ring& r = *ring_;
    r.slots[(r.head + r.size) % r.capacity] = std::move(frame);
    ++r.size;
  }

  FramePtr pop_front() {
    if (!ring_) return std::move(one_);
    Ring& r = *ring_;
    FramePtr frame = std::move(r.slots[r.head]);
    r.head = (r.head + 1) % r.capacity;
    if (--r.size == 0) ring_.reset();  // drained: the heap storage goes back
    return frame;
  }

  void clear() {
    one_.reset();
    ring_.reset();
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    if (!ring_) {
      if (one_) fn(*one_);
      return;
    }
    for (uint32_t i = 0; i < ring_->size; ++i)
      fn(*ring_->slots[(ring_->head + i) % ring_->capacity]);
  }

 private:
  struct Ring {
    std::unique_ptr<FramePtr[]> slots;
    uint32_t capacity = 0;
    uint32_t head = 0;
    uint32_t size = 0;
  };

  // Moves every frame, in order, into twice the slots (the first ring:
  // kFirstHeapSlots, taking the one frame kept inline).
  void grow() {
    if (!ring_) {
      ring_ = std::make_unique<Ring>();
      ring_->capacity = kFirstHeapSlots;
      ring_->slots = std::make_unique<FramePtr[]>(kFirstHeapSlots);
      ring_->slots[0] = std::move(one_);
      one_.reset();
      ring_->size = 1;
      return;
    }
    Ring& r = *ring_;
    auto slots = std::make_unique<FramePtr[]>(r.capacity * 2);
    for (uint32_t i = 0; i < r.size; ++i) slots[i] = std::move(r.slots[(r.head + i) % r.capacity]);
    r.slots = std::move(slots);
    r.capacity *= 2;
    r.head = 0;
  }

  FramePtr one_;                // the only frame, while there is no ring
  std::unique_ptr<Ring> ring_;  // two frames or more
};

}  // namespace daheim::engineio
