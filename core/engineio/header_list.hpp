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

// `count` pairs encoded from `data` on (names and values by pair_codec), or
// read from a URL's query text ("a=1&b=2": pairs split at '&', each at its
// first '=') where that text holds them exactly (see in_query_text()).
class PairsView {
 public:
  using Entry = std::pair<std::string_view, std::string_view>;

  PairsView() = default;
  PairsView(const char* data, std::size_t count) : data_(data), count_(count) {}
  // The pairs of `text`, "name=value" joined by '&'; `count` of them.
  static PairsView query_text(std::string_view text, std::size_t count) {
    PairsView v(text.data(), count);
    v.text_end_ = text.data() + text.size();
    return v;
  }
  // Whether `pairs`, joined as query_text() splits them, read back the same
  // from `text`: `text` is exactly that join, no name holds '&' or '=' and
  // no value holds '&'.
  static bool in_query_text(PairsView pairs, std::string_view text) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      auto [name, value] = pairs.at(i);
      if (name.find_first_of("&=") != std::string_view::npos ||
          value.find('&') != std::string_view::npos)
        return false;
      std::string_view sep = i == 0 ? std::string_view() : std::string_view("&");
      if (text.substr(at, sep.size()) != sep) return false;
      at += sep.size();
      if (text.substr(at, name.size()) != name || text.substr(at + name.size(), 1) != "=")
        return false;
      at += name.size() + 1;
      if (text.substr(at, value.size()) != value) return false;
      at += value.size();
    }
    return at == text.size();
  }

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
    if (text_end_ != nullptr) return read_text(pos);
    std::string_view name = pair_codec::next(data_, pos);
    return {name, pair_codec::next(data_, pos)};
  }
  Entry read_text(std::size_t& pos) const {
    std::string_view rest(data_ + pos, static_cast<std::size_t>(text_end_ - data_) - pos);
    std::string_view pair = rest.substr(0, rest.find('&'));
    pos += pair.size() + 1;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return {pair, {}};
    return {pair.substr(0, eq), pair.substr(eq + 1)};
  }

  const char* data_ = nullptr;
  std::size_t count_ = 0;
  const char* text_end_ = nullptr;  // set: query text, not pair_codec
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
