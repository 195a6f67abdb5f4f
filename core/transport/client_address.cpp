#include "transport/client_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace daheim::transport {
namespace {

// The address as 16 bytes (IPv4 mapped into ::ffff:0:0/96).
std::optional<std::array<uint8_t, 16>> to_bytes(std::string_view text) {
  std::string s(text);
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return std::nullopt;
}

bool is_v4_mapped(const std::array<uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return false;
  return b[10] == 0xff && b[11] == 0xff;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
  std::string_view addr = text;
  std::optional<unsigned> bits;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view n = text.substr(slash + 1);
    if (n.empty() || n.size() > 3) return std::nullopt;
    unsigned v = 0;
    for (char c : n) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    bits = v;
  }
  auto bytes = to_bytes(addr);
  if (!bytes) return std::nullopt;
  bool v4 = addr.find(':') == std::string_view::npos;
  unsigned max = v4 ? 32 : 128;
  if (bits && *bits > max) return std::nullopt;
  AddressRange r;
  r.bytes_ = *bytes;
  r.prefix_ = (bits ? *bits : max) + (v4 ? 96 : 0);
  return r;
}

bool AddressRange::contains(std::string_view address) const {
  auto b = to_bytes(address);
  if (!b) return false;
  unsigned full = prefix_ / 8, rest = prefix_ % 8;
  if (std::memcmp(b->data(), bytes_.data(), full) != 0) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return ((*b)[full] & mask) == (bytes_[full] & mask);
}

std::optional<AddressSet> AddressSet::parse(const std::vector<std::string>& texts,
                                            std::string* bad) {
  std::vector<AddressRange> ranges;
  for (const std::string& t : texts) {
    auto r = AddressRange::parse(t);
    if (!r) {
      if (bad) *bad = t;
      return std::nullopt;
    }
    ranges.push_back(*r);
  }
  return AddressSet(std::move(ranges));
}

bool AddressSet::contains(std::string_view address) const {
  for (const AddressRange& r : ranges_)
    if (r.contains(address)) return true;
  return false;
}

std::string AddressSet::client_address(std::string_view peer, std::string_view forwarded) const {
  if (forwarded.empty() || !contains(peer)) return std::string(peer);
  std::string_view rest = forwarded;
  std::string_view hop;
  while (!rest.empty()) {
    std::size_t comma = rest.rfind(',');
    hop = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (!hop.empty() && !contains(hop)) return std::string(hop);
  }
  return hop.empty() ? std::string(peer) : std::string(hop);
}

std::string address_key(std::string_view address) {
  auto b = to_bytes(address);
  if (!b) return std::string(address);
  char buf[INET6_ADDRSTRLEN] = {0};
  if (is_v4_mapped(*b)) {
    inet_ntop(AF_INET, b->data() + 12, buf, sizeof buf);
    return buf;
  }
  std::fill(b->begin() + 8, b->end(), 0);
  inet_ntop(AF_INET6, b->data(), buf, sizeof buf);
  return std::string(buf) + "/64";
}

}  // namespace daheim::transport
