// What the client sent when it opened the session, kept for the session's
// lifetime as one record: the peer address, the URL, the headers and the
// decoded query parameters in one exact-size allocation (each string after
// its length, as HeaderList encodes pairs). Four strings and two HeaderLists
// cost 168 bytes in the session plus three heap blocks; this costs 40 bytes
// and one block of the text's size. The query pairs are not kept a second
// time when the URL's query text holds them exactly ("EIO=4&transport=
// websocket": the URL is written from the decoded pairs), only where a name
// or value holds '&' or '=' (PairsView::in_query_text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "engineio/header_list.hpp"

namespace daheim::engineio {

class Handshake {
 public:
  Handshake() = default;
  // `headers`: lower-case names; `query`: decoded, in order.
  Handshake(std::string_view address, std::string_view url, const HeaderList& headers,
            const HeaderList& query);
  Handshake(const Handshake& other);
  Handshake& operator=(const Handshake& other);
  Handshake(Handshake&&) noexcept = default;
  Handshake& operator=(Handshake&&) noexcept = default;

  std::string_view address() const;  // peer IP address
  std::string_view url() const;      // path and query as requested
  PairsView headers() const { return {record_.get() + headers_at_, header_count_}; }
  PairsView query() const;

  std::optional<std::string_view> query_param(std::string_view name) const {
    return query().find(name);
  }
  std::optional<std::string_view> header(std::string_view lower_name) const {
    return headers().find(lower_name);
  }
  // The record's size in bytes (its one heap block; 0 when empty).
  std::size_t record_size() const { return size_; }

 private:
  std::unique_ptr<char[]> record_;
  std::uint32_t size_ = 0;
  std::uint32_t headers_at_ = 0;
  std::uint32_t query_at_ = 0;
  std::uint32_t header_count_ = 0;
  std::uint32_t query_count_ = 0;
  bool query_in_url_ = false;  // query() reads the URL's query text

 public:  // after the record's members, so that the whole is 40 bytes
  bool secure = false;
  int64_t issued_unix_ms = 0;  // wall-clock time the session was opened
};

}  // namespace daheim::engineio
