// Name/value pairs in one string: a request's headers (names lower-case) and
// its decoded query parameters. Each string is stored after its length (a
// base-128 varint: one byte below 128), so any byte, NUL included, may appear
// in a value. A vector of string pairs cost ~500 bytes per idle connection for
// the headers and ~140 for the two query parameters of a handshake (pairs,
// capacity slack, long names and values on the heap); this costs the text, a
// byte or two per string, and one string. PairsView reads such pairs wherever
// they are kept (HeaderList, or engineio::Handshake's single record).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace daheim::engineio {

namespace pair_codec {

// Appends `v` after its length.
inline void append(std::string& out, std::string_view v) {
  for (std::size_t n = v.size();; n >>= 7) {
    if (n < 0x80) {
      out.push_back(static_cast<char>(n));
      break;
    }
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
  }
  out.append(v);
}

// The string at `pos` of `data` (written by append); moves `pos` past it.
inline std::string_view next(const char* data, std::size_t& pos) {
  std::size_t len = 0;
  for (unsigned shift = 0;; shift += 7) {
    auto b = static_cast<unsigned char>(data[pos++]);
    len |= static_cast<std::size_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  std::string_view v(data + pos, len);
  pos += len;
  return v;
}

}  // namespace pair_codec

// `count` pairs encoded from `data` on (names and values by pair_codec).
class PairsView {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;

  PairsView() = default;
  PairsView(const char* data, std::size_t count) : data_(data), count_(count) {}

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

  // The i-th pair; i < size(). Linear: pairs are few and rarely read.
  Entry at(std::size_t i) const {
    std::size_t pos = 0;
    Entry e;
    for (std::size_t k = 0; k <= i; ++k) e = read(pos);
    return e;
  }

  std::optional<std::string_view> find(std::string_view name) const {
    std::size_t pos = 0;
    for (std::size_t k = 0; k < count_; ++k) {
      Entry e = read(pos);
      if (e.first == name) return e.second;
    }
    return std::nullopt;
  }

 private:
  Entry read(std::size_t& pos) const {
    std::string_view name = pair_codec::next(data_, pos);
    return {name, pair_codec::next(data_, pos)};
  }

  const char* data_ = nullptr;
  std::size_t count_ = 0;
};

class HeaderList {
 public:
  using Entry = PairsView::Entry;

  HeaderList() = default;
  HeaderList(std::initializer_list<std::pair<std::string_view, std::string_view>> headers) {
    for (const auto& [name, value] : headers) add(name, value);
  }

  void add(std::string_view name, std::string_view value) {
    pair_codec::append(blob_, name);
    pair_codec::append(blob_, value);
    ++count_;
  }
  void shrink() { blob_.shrink_to_fit(); }

  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Entry at(std::size_t i) const { return view().at(i); }
  std::optional<std::string_view> find(std::string_view lower_name) const {
    return view().find(lower_name);
  }

  PairsView view() const { return {blob_.data(), count_}; }
  // The encoded pairs, as PairsView reads them.
  std::string_view bytes() const { return blob_; }

 private:
  std::string blob_;
  std::uint32_t count_ = 0;
};

}  // namespace daheim::engineio
