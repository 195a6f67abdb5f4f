// A list of small trivially copyable items in one pointer, for containers
// that hold one per connection and are empty for most of them (a socket's
// rooms besides its own): no block while empty; the first push allocates one
// holding the size, the capacity and the items; removing the last item frees
// it. A std::vector is 24 bytes even when empty, this is 8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace daheim::socketio {

template <class T>
class CompactList {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  static_assert(alignof(T) <= alignof(std::max_align_t));

 public:
  CompactList() = default;
  CompactList(const CompactList&) = delete;
  CompactList& operator=(const CompactList&) = delete;
  CompactList(CompactList&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  CompactList& operator=(CompactList&& other) noexcept {
    if (this != &other) {
      clear();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  ~CompactList() { clear(); }

  bool empty() const { return block_ == nullptr; }
  uint32_t size() const { return block_ ? block_->size : 0; }
  // The block is allocated (the list is not empty).
  bool allocated() const { return block_ != nullptr; }
  T* begin() { return block_ ? block_->items() : nullptr; }
  T* end() { return block_ ? block_->items() + block_->size : nullptr; }
  const T* begin() const { return block_ ? block_->items() : nullptr; }
  const T* end() const { return block_ ? block_->items() + block_->size : nullptr; }
  T& back() { return block_->items()[block_->size - 1]; }
  const T& back() const { return block_->items()[block_->size - 1]; }

  // By value: an item of this very list stays valid across the growth.
  void push_back(T item) {
    if (!block_ || block_->size == block_->capacity) grow();
    block_->items()[block_->size++] = item;
  }
  // Frees the block when the list becomes empty.
  void pop_back() {
    if (--block_->size == 0) clear();
  }
  void clear() {
    ::operator delete(block_);  // null: nothing
    block_ = nullptr;
  }

 private:
  struct Block {
    uint32_t size;
    uint32_t capacity;
    T* items() { return reinterpret_cast<T*>(reinterpret_cast<char*>(this) + kItemsOffset); }
  };
  static constexpr std::size_t kItemsOffset =
      (sizeof(Block) + alignof(T) - 1) / alignof(T) * alignof(T);

  // Capacity 1, then doubling (as std::vector's growth in libstdc++).
  void grow() {
    uint32_t capacity = block_ ? block_->capacity * 2 : 1;
    auto* next = static_cast<Block*>(::operator new(kItemsOffset + sizeof(T) * capacity));
    next->size = block_ ? block_->size : 0;
    next->capacity = capacity;
    if (block_)
      std::memcpy(static_cast<void*>(next->items()), block_->items(), sizeof(T) * block_->size);
    clear();
    block_ = next;
  }

  Block* block_ = nullptr;
};

}  // namespace daheim::socketio
