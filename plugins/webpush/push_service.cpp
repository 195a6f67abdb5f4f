#include "push_service.hpp"

#include <curl/curl.h>

#include <charconv>
#include <memory>
#include <string_view>

namespace webpush {

namespace {

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Keeps Retry-After (delta-seconds; an HTTP date is not parsed: the caller's
// backoff applies then).
size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* response = static_cast<PushResponse*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i)
      match = static_cast<char>(line[i] | 0x20) == kName[i];
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      int64_t seconds = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      if (ec == std::errc() && end != v.data() && seconds >= 0) response->retry_after_s = seconds;
    }
  }
  return size * n;
}

// The push service's answer body is not needed: read and dropped.
size_t on_body(char*, size_t size, size_t n, void*) {
  return size * n;
}

}  // namespace

bool http_global_init() {
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void http_global_cleanup() {
  curl_global_cleanup();
}

PushResponse post(const PushRequest& request, const HttpOptions& options) {
  PushResponse response;
  std::unique_ptr<CURL, EasyFree> curl(curl_easy_init());
  if (!curl) {
    response.error = "curl_easy_init failed";
    return response;
  }
  std::unique_ptr<curl_slist, ListFree> headers;
  for (const std::string& h : request.headers) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (l == nullptr) {
      response.error = "out of memory";
      return response;
    }
    headers.release();
    headers.reset(l);
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.endpoint.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options.allow_http ? "http,https" : "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  if (!options.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_body);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    response.error = curl_easy_strerror(rc);
    return response;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace webpush
