// Who a request comes from: the peer's address, or behind a trusted proxy
// the client named by X-Forwarded-For. Limits count per "address key": the
// IPv4 address, or the /64 prefix of an IPv6 address (one host usually has a
// whole /64).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daheim::transport {

// An address range: "10.0.0.0/8", "::1", "fd00::/8" (a bare address is /32
// or /128).
class AddressRange {
 public:
  static std::optional<AddressRange> parse(std::string_view text);
  bool contains(std::string_view address) const;

 private:
  std::array<uint8_t, 16> bytes_{};  // IPv4 as IPv4-mapped IPv6
  unsigned prefix_ = 128;            // in the 128-bit space
};

// A set of address ranges (trusted proxies, addresses exempt from limits).
class AddressSet {
 public:
  AddressSet() = default;
  explicit AddressSet(std::vector<AddressRange> ranges) : ranges_(std::move(ranges)) {}
  // Each text an AddressRange; nullopt names the first one that is not.
  static std::optional<AddressSet> parse(const std::vector<std::string>& texts,
                                         std::string* bad = nullptr);
  bool empty() const { return ranges_.empty(); }
  bool contains(std::string_view address) const;
  // With this set as the trusted proxies, the client: `peer`, or when `peer`
  // is trusted, the right-most entry of
  // X-Forwarded-For (`forwarded`, comma-separated) that is not trusted (the
  // left-most when all are).
  std::string client_address(std::string_view peer, std::string_view forwarded) const;

 private:
  std::vector<AddressRange> ranges_;
};

// "1.2.3.4" for IPv4 (and IPv4-mapped IPv6), "2001:db8:1:2::/64" for IPv6;
// the text itself when it is not an address.
std::string address_key(std::string_view address);

}  // namespace daheim::transport
