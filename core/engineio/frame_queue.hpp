// A session's outgoing frames, first in first out. One frame is kept in the
// queue itself, so a session that has one frame at a time to send (an echo,
// a heartbeat) never allocates; more than one go to a ring on the heap, which
// is given back once drained, so an idle session holds no heap storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engineio/packet.hpp"

namespace daheim::engineio {

class FrameQueue {
 public:
  static constexpr uint32_t kFirstHeapSlots = 4;

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const FramePtr& front() const { return slots()[head_]; }
  // Slots on the heap (0: only the one in the queue itself).
  std::size_t capacity() const { return heap_ ? capacity_ : 0; }

  void push_back(FramePtr frame) {
    if (size_ == slot_count()) grow();
    slots()[(head_ + size_) % slot_count()] = std::move(frame);
    ++size_;
  }

  FramePtr pop_front() {
    FramePtr frame = std::move(slots()[head_]);
    head_ = (head_ + 1) % slot_count();
    if (--size_ == 0) drained();
    return frame;
  }

  void clear() {
    while (size_ > 0) pop_front();
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t i = 0; i < size_; ++i) fn(*slots()[(head_ + i) % slot_count()]);
  }

 private:
  FramePtr* slots() { return heap_ ? heap_.get() : &one_; }
  const FramePtr* slots() const { return heap_ ? heap_.get() : &one_; }
  uint32_t slot_count() const { return heap_ ? capacity_ : 1; }

  void grow() {
    uint32_t capacity = heap_ ? capacity_ * 2 : kFirstHeapSlots;
    auto slots = std::make_unique<FramePtr[]>(capacity);
    for (uint32_t i = 0; i < size_; ++i)
      slots[i] = std::move(this->slots()[(head_ + i) % slot_count()]);
    heap_ = std::move(slots);
    capacity_ = capacity;
    head_ = 0;
  }

  void drained() {
    head_ = 0;
    heap_.reset();
    capacity_ = 0;
  }

  std::unique_ptr<FramePtr[]> heap_;
  FramePtr one_;
  uint32_t capacity_ = 0;
  uint32_t head_ = 0;
  uint32_t size_ = 0;
};

}  // namespace daheim::engineio
