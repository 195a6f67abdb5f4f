// A request's headers, kept for the session's lifetime in one allocation:
// "name\0value\0" for each, names lower-case. A vector of string pairs cost
// ~500 bytes per idle connection (pairs, capacity slack, long names and
// values on the heap); this costs the text and one string.
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
  void add(std::string_view lower_name, std::string_view value) {
    blob_.append(lower_name).push_back('\0');
    blob_.append(value).push_back('\0');
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
    std::string_view rest(blob_);
    std::size_t name_end = rest.find('\0', pos);
    std::size_t value_end = rest.find('\0', name_end + 1);
    Entry e{rest.substr(pos, name_end - pos), rest.substr(name_end + 1, value_end - name_end - 1)};
    pos = value_end + 1;
    return e;
  }

  std::string blob_;
  std::uint32_t count_ = 0;
};

}  // namespace daheim::engineio
