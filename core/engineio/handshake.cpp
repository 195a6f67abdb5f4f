#include "engineio/handshake.hpp"

#include <cstring>
#include <string>

namespace daheim::engineio {

namespace {

// An empty record still holds the two empty strings (address and URL).
constexpr char kEmpty[2] = {0, 0};

}  // namespace

Handshake::Handshake(std::string_view address, std::string_view url, const HeaderList& headers,
                     const HeaderList& query) {
  std::string text;
  text.reserve(address.size() + url.size() + headers.bytes().size() + query.bytes().size() + 8);
  pair_codec::append(text, address);
  pair_codec::append(text, url);
  headers_at_ = static_cast<std::uint32_t>(text.size());
  std::size_t mark = url.find('?');
  query_in_url_ = !query.empty() && mark != std::string_view::npos &&
                  PairsView::in_query_text(query.view(), url.substr(mark + 1));
  if (query_in_url_) query_at_ = static_cast<std::uint32_t>(text.size() - url.size() + mark + 1);
  text.append(headers.bytes());
  if (!query_in_url_) {
    query_at_ = static_cast<std::uint32_t>(text.size());
    text.append(query.bytes());
  }
  header_count_ = static_cast<std::uint32_t>(headers.size());
  query_count_ = static_cast<std::uint32_t>(query.size());
  size_ = static_cast<std::uint32_t>(text.size());
  record_ = std::make_unique_for_overwrite<char[]>(size_);
  std::memcpy(record_.get(), text.data(), size_);
}

Handshake::Handshake(const Handshake& other)
    : size_(other.size_),
      headers_at_(other.headers_at_),
      query_at_(other.query_at_),
      header_count_(other.header_count_),
      query_count_(other.query_count_),
      query_in_url_(other.query_in_url_),
      secure(other.secure),
      issued_unix_ms(other.issued_unix_ms) {
  if (size_ == 0) return;
  record_ = std::make_unique_for_overwrite<char[]>(size_);
  std::memcpy(record_.get(), other.record_.get(), size_);
}

Handshake& Handshake::operator=(const Handshake& other) {
  if (this != &other) *this = Handshake(other);
  return *this;
}

PairsView Handshake::query() const {
  if (!query_in_url_) return {record_.get() + query_at_, query_count_};
  return PairsView::query_text({record_.get() + query_at_, headers_at_ - query_at_}, query_count_);
}

std::string_view Handshake::address() const {
  std::size_t pos = 0;
  return pair_codec::next(record_ ? record_.get() : kEmpty, pos);
}

std::string_view Handshake::url() const {
  std::size_t pos = 0;
  const char* data = record_ ? record_.get() : kEmpty;
  pair_codec::next(data, pos);
  return pair_codec::next(data, pos);
}

}  // namespace daheim::engineio
