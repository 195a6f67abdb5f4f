// A session's outgoing frames, first in first out: a ring that allocates
// nothing until the first frame and gives back anything beyond a few slots
// once drained, so an idle session keeps at most kKeptSlots pointers.
#pragma once

#include <cstddef>
#include <memory>

#include "engineio/packet.hpp"

namespace daheim::engineio {

class FrameQueue {
 public:
  static constexpr std::size_t kKeptSlots = 4;

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const FramePtr& front() const { return slots_[head_]; }
  std::size_t capacity() const { return capacity_; }

  void push_back(FramePtr frame) {
    if (size_ == capacity_) grow();
    slots_[(head_ + size_) % capacity_] = std::move(frame);
    ++size_;
  }

  FramePtr pop_front() {
    FramePtr frame = std::move(slots_[head_]);
    head_ = (head_ + 1) % capacity_;
    if (--size_ == 0) drained();
    return frame;
  }

  void clear() {
    while (size_ > 0) pop_front();
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (std::size_t i = 0; i < size_; ++i) fn(*slots_[(head_ + i) % capacity_]);
  }

 private:
  void grow() {
    std::size_t capacity = capacity_ == 0 ? kKeptSlots : capacity_ * 2;
    auto slots = std::make_unique<FramePtr[]>(capacity);
    for (std::size_t i = 0; i < size_; ++i) slots[i] = std::move(slots_[(head_ + i) % capacity_]);
    slots_ = std::move(slots);
    capacity_ = capacity;
    head_ = 0;
  }

  void drained() {
    head_ = 0;
    if (capacity_ <= kKeptSlots) return;
    slots_.reset();
    capacity_ = 0;
  }

  std::unique_ptr<FramePtr[]> slots_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace daheim::engineio
