// A TLS listener's certificate: read from PEM files, checked, and presented by
// every new handshake of the listener (loaded at start and again on SIGHUP).
#pragma once

#include <memory>
#include <string>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace daheim::transport {

class TlsCertificate {
 public:
  struct Pair;  // certificate, chain and key (OpenSSL objects)

  TlsCertificate();
  ~TlsCertificate();
  TlsCertificate(const TlsCertificate&) = delete;
  TlsCertificate& operator=(const TlsCertificate&) = delete;

  // Reads the chain in `cert_path` (leaf first) and the unencrypted private
  // key in `key_path` and checks that they belong together. On success they
  // are what handshakes present from now on; established connections keep
  // theirs. On failure nothing changes and `error` says why, naming the file.
  bool load(const std::string& cert_path, const std::string& key_path, std::string& error);
  // Makes every handshake on `ctx` present this certificate and nothing else
  // `ctx` may hold (a key of another type stays behind in an SSL_CTX).
  void attach(ssl_ctx_st* ctx);

 private:
  static int on_handshake(ssl_st* ssl, void* self);
  std::unique_ptr<Pair> pair_;
};

}  // namespace daheim::transport
