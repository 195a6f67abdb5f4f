#include "transport/http1_target.hpp"

#include <algorithm>
#include <array>

#include "engineio/hex_digit.hpp"

namespace daheim::transport::http1 {
namespace {

using engineio::hex_value;

// One stored part of the target: where it starts in the store, how many
// characters count (a NUL written into it does not).
struct Part {
  std::size_t offset = 0;
  std::size_t len = 0;
};

enum class Escape : unsigned char { Idle, Percent, PercentHigh };
enum class Slash : unsigned char { Idle, Slash, SlashDot, SlashDotDot };

// lws's header store for the target, modelled as lws writes it: a part ends
// with a NUL, and the next part begins one byte further on (a byte lws never
// writes: here a NUL). One per thread, reused: nothing is allocated once it
// has held a target as long.
class TargetStore {
 public:
  void reset(std::size_t target_size) {
    data_.assign(target_size * 2 + 8, '\0');
    pos_ = 0;
    path_.assign(1, Part{});
    query_.clear();
    in_query_ = false;
  }

  void put(char c) {
    data_[pos_++] = c;
    if (c != '\0') ++current().len;
  }
  // A separator ('&', ';') or the start of the query ('?').
  void next_part(bool query) {
    put('\0');
    if (query) in_query_ = true;
    (in_query_ ? query_ : path_).push_back({++pos_, 0});
  }
  // "/.." before a '/', a '?' or the end: back to the '/' before the last
  // segment, as lws moves its write position.
  void back_up() {
    Part& p = current();
    if (p.len <= 2) return;
    --pos_;
    --p.len;
    do {
      --pos_;
      --p.len;
    } while (p.len > 1 && data_[pos_] != '/');
  }
  Part& current() { return in_query_ ? query_.back() : path_.back(); }
  bool in_query() const { return in_query_; }

  std::size_t fragments() const { return path_.size() + query_.size(); }
  // What lws_hdr_total_length() counts: the parts and one separator between two.
  static std::size_t total(const std::vector<Part>& parts) {
    std::size_t n = 0;
    for (const Part& p : parts) n += p.len;
    return parts.empty() ? 0 : n + parts.size() - 1;
  }
  // The path as lws_hdr_simple_ptr() and the total length give it.
  std::string_view path() const {
    std::size_t len = std::min(total(path_), data_.size() - path_.front().offset);
    return {data_.data() + path_.front().offset, len};
  }
  const std::vector<Part>& query_parts() const { return query_; }
  std::string_view part(const Part& p) const { return {data_.data() + p.offset, p.len}; }

 private:
  std::string data_;
  std::size_t pos_ = 0;
  std::vector<Part> path_;
  std::vector<Part> query_;
  bool in_query_ = false;
};

class TargetDecoder {
 public:
  explicit TargetDecoder(TargetStore& store, std::size_t size) : store_(store) {
    store_.reset(size);
  }

  TargetVerdict feed(std::string_view target) {
    for (char c : target)
      if (TargetVerdict v = step(c); v != TargetVerdict::Ok) return v;
    return finish();
  }

 private:
  // lws_parse_urldecode(), one character.
  TargetVerdict step(char c) {
    bool enc = false;
    switch (escape_) {
      case Escape::Idle:
        if (c == '%') {
          escape_ = Escape::Percent;
          return TargetVerdict::Ok;
        }
        break;
      case Escape::Percent:
        if (hex_value(c) < 0) return TargetVerdict::Forbidden;
        stash_ = c;
        escape_ = Escape::PercentHigh;
        return TargetVerdict::Ok;
      case Escape::PercentHigh:
        if (hex_value(c) < 0) return TargetVerdict::Forbidden;
        c = static_cast<char>(hex_value(stash_) * 16 + hex_value(c));
        enc = true;
        escape_ = Escape::Idle;
        break;
    }
    bool swallow = false;
    if (!fold(c, enc, swallow)) return TargetVerdict::Broken;
    if (swallow) return TargetVerdict::Ok;
    if (c == '?' && !enc && !store_.in_query()) {
      store_.next_part(true);
      literal_equal_ = false;
      slash_ = Slash::Idle;
      return TargetVerdict::Ok;
    }
    store_.put(c);
    return TargetVerdict::Ok;
  }

  // The separators, '+', '=' and the path's folding; false: lws fails.
  bool fold(char& c, bool enc, bool& swallow) {
    switch (slash_) {
      case Slash::Idle:
        if (c == '\0') return false;
        if ((c == '&' || c == ';') && !enc) {
          store_.next_part(false);
          literal_equal_ = false;
          swallow = true;
          return true;
        }
        if (c == '=' && enc && store_.in_query() && !literal_equal_) c = '_';
        if (c == '=' && !enc) literal_equal_ = true;
        if (c == '+' && !enc) c = ' ';
        if (c == '/' && !store_.in_query()) slash_ = Slash::Slash;
        return true;
      case Slash::Slash:
        if (c == '/') return swallow = true;
        if (c == '.') {
          slash_ = Slash::SlashDot;
          return swallow = true;
        }
        slash_ = Slash::Idle;
        return true;
      case Slash::SlashDot:
        if (c == '.') {
          slash_ = Slash::SlashDotDot;
          return swallow = true;
        }
        if (c == '/') {
          slash_ = Slash::Slash;
          return swallow = true;
        }
        slash_ = Slash::Idle;
        store_.put('.');
        return true;
      case Slash::SlashDotDot:
        if (c == '/' || c == '?') {
          store_.back_up();
          slash_ = Slash::Slash;
          swallow = store_.current().len <= 1;
          return true;
        }
        store_.put('.');
        store_.put('.');
        slash_ = Slash::Idle;
        return true;
    }
    return true;
  }

  // The space after the target.
  TargetVerdict finish() {
    if (store_.current().len == 0) store_.put('/');
    if (slash_ == Slash::SlashDotDot) store_.back_up();
    return escape_ == Escape::Idle ? TargetVerdict::Ok : TargetVerdict::Forbidden;
  }

  TargetStore& store_;
  Escape escape_ = Escape::Idle;
  Slash slash_ = Slash::Idle;
  char stash_ = 0;
  bool literal_equal_ = false;
};

// What makes lws change a target, or lets its state machine decide: '%'
// (escapes), '+' (a space), ';' and '&' (separators in the path, empty
// arguments in the query), NUL; '/' and '.' matter after a '/'.
constexpr std::array<unsigned char, 256> kPlain = [] {
  std::array<unsigned char, 256> t{};
  for (std::size_t c = 0; c < t.size(); ++c) t[c] = 1;
  for (unsigned char c : {'%', '+', ';', '&', '\0', '?'}) t[c] = 0;
  return t;
}();

// The usual target (Engine.IO's: "/socket.io/?EIO=4&transport=polling&t=...")
// holds none of those where lws would act on them: its path and arguments
// are the bytes as sent, split at '?' and '&', as the state machine would
// give them, without it. False: the state machine decides.
bool decode_plain(std::string_view target, std::size_t max_arg, std::string& path,
                  std::vector<engineio::Header>& query, TargetResult& result) {
  std::size_t i = 0;
  if (target.empty() || target[0] != '/') return false;
  for (char prev = 0; i < target.size(); prev = target[i++]) {
    auto c = static_cast<unsigned char>(target[i]);
    if (!kPlain[c]) break;
    if (prev == '/' && (c == '/' || c == '.')) return false;
  }
  if (i < target.size() && target[i] != '?') return false;
  std::string_view args = i < target.size() ? target.substr(i + 1) : std::string_view();
  if (i < target.size() && (args.empty() || args.front() == '&' || args.back() == '&'))
    return false;
  char prev = 0;
  for (char c : args) {
    if (c == '%' || c == '+' || c == ';' || c == '\0' || (c == '&' && prev == '&')) return false;
    prev = c;
  }
  path.assign(target.substr(0, i));
  // read_query(): an argument longer than the copy buffer ends the list.
  std::size_t size = std::min(args.size(), max_arg) + 1;
  std::size_t used = 0;
  bool listing = true;
  result.fragments = 1;
  while (!args.empty()) {
    std::size_t amp = args.find('&');
    std::string_view arg = args.substr(0, amp);
    ++result.fragments;
    if (arg.size() >= size) listing = false;
    if (listing) {
      if (used == query.size()) query.emplace_back();
      split_argument(arg, query[used++]);
    }
    if (amp == std::string_view::npos) break;
    args.remove_prefix(amp + 1);
  }
  query.resize(used);
  return true;
}

}  // namespace

void split_argument(std::string_view arg, engineio::Header& into) {
  auto& [name, value] = into;
  std::size_t eq = arg.find('=');
  name.assign(arg.substr(0, eq));
  if (eq == std::string_view::npos)
    value.clear();
  else
    value.assign(arg.substr(eq + 1));
}

TargetResult decode_target(std::string_view target, std::size_t max_arg, std::string& path,
                           std::vector<engineio::Header>& query) {
  TargetResult plain;
  if (decode_plain(target, max_arg, path, query, plain)) return plain;
  return decode_target_by_state_machine(target, max_arg, path, query);
}

TargetResult decode_target_by_state_machine(std::string_view target, std::size_t max_arg,
                                            std::string& path,
                                            std::vector<engineio::Header>& query) {
  thread_local TargetStore store;
  TargetDecoder decoder(store, target.size());
  TargetResult result{decoder.feed(target), store.fragments()};
  if (result.verdict != TargetVerdict::Ok) return result;
  path.assign(store.path());
  // read_query(): nothing when the arguments are empty in total; one longer
  // than the copy buffer ends the list.
  const auto& parts = store.query_parts();
  std::size_t total = TargetStore::total(parts);
  std::size_t used = 0;
  if (total > 0) {
    std::size_t size = std::min(total, max_arg) + 1;
    for (const auto& p : parts) {
      if (p.len >= size) break;
      if (used == query.size()) query.emplace_back();
      split_argument(store.part(p), query[used++]);
    }
  }
  query.resize(used);
  return result;
}

}  // namespace daheim::transport::http1
