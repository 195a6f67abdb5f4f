// The body of a polling POST being read, in one string the endpoint keeps:
// lws hands a POST's body and its completion over in the same read as a
// rule, so the string is free again for the next POST and a steady stream of
// POSTs reads into it without allocating. While one POST holds it (its body
// is still coming), another reads into its own ConnectionState::buffer.
#pragma once

#include <cstddef>
#include <string>

namespace daheim::transport {

class PostBody {
 public:
  // Whether `owner` (a connection's state) got the string, empty.
  bool claim(const void* owner) {
    if (owner_) return false;
    owner_ = owner;
    text_.clear();
    return true;
  }
  bool owned_by(const void* owner) const { return owner && owner_ == owner; }
  std::string& text() { return text_; }
  // Frees it for the next POST (no-op for any other owner); its capacity is
  // kept up to kKeep.
  void release(const void* owner) {
    if (!owned_by(owner)) return;
    owner_ = nullptr;
    if (text_.capacity() > kKeep) std::string().swap(text_);
  }

  static constexpr std::size_t kKeep = 64 * 1024;

 private:
  const void* owner_ = nullptr;
  std::string text_;
};

}  // namespace daheim::transport
