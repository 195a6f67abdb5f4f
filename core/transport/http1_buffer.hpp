// The bytes a connection of our own HTTP/1.1 handling has read and not
// served yet: grown without zero-filling (a read goes straight into the
// room at the end), consumed from the front.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace daheim::transport {

class Http1Buffer {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  const char* data() const { return data_.get(); }
  operator std::string_view() const { return {data_.get(), size_}; }

  // At least `n` bytes of room after the data; where they begin.
  char* room(std::size_t n) {
    if (capacity_ - size_ < n) {
      std::size_t grown = std::max(capacity_ * 2, size_ + n);
      std::unique_ptr<char[]> next(new char[grown]);
      if (size_ != 0) std::memcpy(next.get(), data_.get(), size_);
      data_ = std::move(next);
      capacity_ = grown;
    }
    return data_.get() + size_;
  }
  void commit(std::size_t n) { size_ += n; }
  void clear() { size_ = 0; }
  void consume(std::size_t n) {
    if (n >= size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_.get(), data_.get() + n, size_ - n);
    size_ -= n;
  }
  void assign(std::string_view bytes) {
    size_ = 0;
    std::memcpy(room(bytes.size()), bytes.data(), bytes.size());
    size_ = bytes.size();
  }
  void swap(Http1Buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }
  void release() { *this = Http1Buffer(); }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace daheim::transport
