#include "transport/http_forward.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace daheim::transport {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Hop-by-hop and framing headers are the forwarding node's own business.
bool end_to_end(std::string_view name) {
  static constexpr std::string_view kHop[] = {
      "connection",   "keep-alive", "content-length", "transfer-encoding",
      "content-type", "date",       "server",         "proxy-connection",
      "upgrade"};
  return std::find(std::begin(kHop), std::end(kHop), name) == std::end(kHop);
}

}  // namespace

bool parse_forwarded_response(std::string_view bytes, bool eof, ForwardedResponse& out,
                              bool& error) {
  error = false;
  auto head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    error = eof;
    return false;
  }
  std::string_view head = bytes.substr(0, head_end);
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 9) != "HTTP/1.1 " && status_line.substr(0, 9) != "HTTP/1.0 ") {
    error = true;
    return false;
  }
  unsigned status = 0;
  auto code = status_line.substr(9, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
  if (ec != std::errc() || p != code.data() + code.size() || status < 100) {
    error = true;
    return false;
  }
  out = ForwardedResponse{};
  out.status = status;
  std::size_t length = 0;
  bool has_length = false;
  bool close = status_line.substr(0, 9) == "HTTP/1.0 ";
  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    auto e = rest.find("\r\n");
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), length);
      has_length = ec2 == std::errc() && q == value.data() + value.size();
      if (!has_length) {
        error = true;
        return false;
      }
    } else if (name == "connection") {
      close = close || lower(value).find("close") != std::string::npos;
    } else if (name == "content-type") {
      out.content_type = std::string(value);
    } else if (end_to_end(name)) {
      out.headers.emplace_back(std::move(name), std::string(value));
    }
  }
  std::string_view body = bytes.substr(head_end + 4);
  if (has_length) {
    if (body.size() < length) {
      error = eof;
      return false;
    }
    out.body = std::string(body.substr(0, length));
    out.keep_alive = !close;
    return true;
  }
  if (!eof) return false;
  out.body = std::string(body);
  return true;
}

HttpForward::HttpForward(ForwardPool& pool, Limits limits, Done done)
    : pool_(pool),
      limits_(limits),
      done_(std::move(done)),
      answer_timer_(pool.timers(), [this] { finish(nullptr, true); }) {}

HttpForward::~HttpForward() = default;

bool HttpForward::open_new() {
  socket_ = std::make_unique<UpstreamSocket>(pool_.reactor(), pool_.timers(), this);
  if (!socket_->connect(address_, limits_.connect_timeout)) return false;
  socket_->write(request_, request_.size());
  return true;
}

bool HttpForward::start(const std::string& address, std::string request) {
  address_ = address;
  request_ = std::move(request);
  answer_timer_.arm(limits_.answer_timeout);
  socket_ = pool_.take(address_);
  if (!socket_) return open_new();
  reused_ = true;
  socket_->set_owner(this);
  socket_->write(request_, request_.size());
  return true;
}

void HttpForward::on_upstream_data(std::string_view data) {
  if (in_.size() + data.size() > limits_.max_response) return finish(nullptr, true);
  in_.append(data);
  ForwardedResponse r;
  bool error = false;
  bool complete = parse_forwarded_response(in_, false, r, error);
  if (error) return finish(nullptr, true);
  if (!complete) return;
  if (r.keep_alive) pool_.give(address_, std::move(socket_));
  finish(&r, true);
}

void HttpForward::on_upstream_closed(const char*, bool connected) {
  // A pooled connection the owner had closed meanwhile: once more on a new
  // one (nothing was answered, so nothing was taken).
  if (reused_ && in_.empty()) {
    reused_ = false;
    if (!open_new()) finish(nullptr, false);
    return;
  }
  if (!connected) return finish(nullptr, false);
  ForwardedResponse r;
  bool error = false;
  if (parse_forwarded_response(in_, true, r, error) && !error) return finish(&r, true);
  finish(nullptr, true);
}

// `done_` may destroy this object: nothing is touched after it.
void HttpForward::finish(const ForwardedResponse* response, bool reachable) {
  if (done_called_) return;
  done_called_ = true;
  answer_timer_.disarm();
  if (socket_) socket_->close();
  done_(response, reachable);
}

}  // namespace daheim::transport
