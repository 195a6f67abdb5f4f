// Name/value pairs kept for the session's lifetime in one allocation: a
// request's headers (names lower-case) and its decoded query parameters.
// Each string is stored after its length (a base-128 varint: one byte below
// 128), so any byte, NUL included, may appear in a value. A vector of string
// pairs cost ~500 bytes per idle connection for the headers and ~140 for the
// two query parameters of a handshake (pairs, capacity slack, long names and
// values on the heap); this costs the text, a byte or two per string, and
// one string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace daheim::engineio {

class HeaderList {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;

  HeaderList() = default;
  HeaderList(std::initializer_list<std::pair<std::string_view, std::string_view>> headers) {
    for (const auto& [name, value] : headers) add(name, value);
  }

  // `lower_name` and `value` hold no NUL (HTTP headers cannot).
  void add(std::string_view name, std::string_view value) {
    append(name);
    append(value);
    ++count_;
  }
  void shrink() { blob_.shrink_to_fit(); }

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // The i-th header; i < size(). Linear: headers are few and rarely read.
  Entry at(std::size_t i) const {
    std::size_t pos = 0;
    Entry e;
    for (std::size_t k = 0; k <= i; ++k) e = read(pos);
    return e;
  }

  std::optional<std::string_view> find(std::string_view lower_name) const {
    std::size_t pos = 0;
    for (std::size_t k = 0; k < count_; ++k) {
      Entry e = read(pos);
      if (e.first == lower_name) return e.second;
    }
    return std::nullopt;
  }

 private:
  // The entry at `pos`; moves `pos` past it.
  Entry read(std::size_t& pos) const {
    std::string_view name = next(pos);
    return {name, next(pos)};
  }
  std::string_view next(std::size_t& pos) const {
    std::size_t len = 0;
    for (unsigned shift = 0;; shift += 7) {
      auto b = static_cast<unsigned char>(blob_[pos++]);
      len |= static_cast<std::size_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    std::string_view v(blob_.data() + pos, len);
    pos += len;
    return v;
  }
  void append(std::string_view v) {
    for (std::size_t n = v.size();; n >>= 7) {
      if (n < 0x80) {
        blob_.push_back(static_cast<char>(n));
        break;
      }
      blob_.push_back(static_cast<char>((n & 0x7f) | 0x80));
    }
    blob_.append(v);
  }

  std::string blob_;
  std::uint32_t count_ = 0;
};

}  // namespace daheim::engineio
