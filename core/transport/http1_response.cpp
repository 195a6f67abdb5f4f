#include "transport/http1_response.hpp"

#include <charconv>

namespace daheim::transport::http1 {

std::string_view reason_phrase(unsigned status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "";
  }
}

void format_response(std::string& out, int minor, unsigned status, std::string_view content_type,
                     std::string_view body, const std::vector<engineio::Header>& extra,
                     bool say_close) {
  char digits[24];
  out.clear();
  out += minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
  out.append(digits, end);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
  if (!content_type.empty()) {
    out += "content-type: ";
    out += content_type;
    out += "\r\n";
  }
  out += "content-length: ";
  auto [len_end, len_ec] = std::to_chars(digits, digits + sizeof digits, body.size());
  out.append(digits, len_end);
  out += "\r\n";
  for (const auto& [name, value] : extra) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (say_close) out += "connection: close\r\n";
  out += "\r\n";
  out += body;
}

}  // namespace daheim::transport::http1
