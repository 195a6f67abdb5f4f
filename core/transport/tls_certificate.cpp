#include "transport/tls_certificate.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace daheim::transport {
namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

// The most recent OpenSSL error as words; clears the queue.
std::string reason(const char* fallback) {
  unsigned long e = ERR_peek_last_error();
  const char* r = e ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return r ? r : fallback;
}

// Keys must not be encrypted: never prompt on a terminal for a passphrase.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

Owned<BIO> open_file(const std::string& path, const char* what, std::string& error) {
  errno = 0;
  Owned<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    error = std::string("cannot read the ") + what + " " + path + ": " +
            (errno ? std::strerror(errno) : reason("cannot open"));
    ERR_clear_error();
  }
  return bio;
}

// Certificates after the leaf, up to the end of the file.
bool read_chain(BIO* bio, STACK_OF(X509) * chain) {
  for (;;) {
    Owned<X509> x(PEM_read_bio_X509(bio, nullptr, no_passphrase, nullptr));
    if (!x) break;
    if (!sk_X509_push(chain, x.get())) return false;
    x.release();
  }
  unsigned long e = ERR_peek_last_error();
  if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
    ERR_clear_error();  // the end of the file
    return true;
  }
  return false;
}

}  // namespace

struct TlsCertificate::Pair {
  Owned<X509> leaf;
  Owned<STACK_OF(X509)> chain;
  Owned<EVP_PKEY> key;
};

namespace {

bool read_pair(const std::string& cert_path, const std::string& key_path, TlsCertificate::Pair& out,
               std::string& error) {
  ERR_clear_error();
  Owned<BIO> cert = open_file(cert_path, "certificate", error);
  if (!cert) return false;
  out.leaf.reset(PEM_read_bio_X509_AUX(cert.get(), nullptr, no_passphrase, nullptr));
  out.chain.reset(sk_X509_new_null());
  if (!out.leaf || !out.chain || !read_chain(cert.get(), out.chain.get())) {
    error = "no valid PEM certificate in " + cert_path + ": " + reason("empty");
    return false;
  }
  Owned<BIO> key = open_file(key_path, "private key", error);
  if (!key) return false;
  out.key.reset(PEM_read_bio_PrivateKey(key.get(), nullptr, no_passphrase, nullptr));
  if (!out.key) {
    error = "no valid unencrypted PEM private key in " + key_path + ": " + reason("empty");
    return false;
  }
  if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
    ERR_clear_error();
    error = "the private key " + key_path + " does not belong to the certificate " + cert_path;
    return false;
  }
  return true;
}

}  // namespace

TlsCertificate::TlsCertificate() = default;
TlsCertificate::~TlsCertificate() = default;

bool TlsCertificate::load(const std::string& cert_path, const std::string& key_path,
                          std::string& error) {
  auto pair = std::make_unique<Pair>();
  if (!read_pair(cert_path, key_path, *pair, error)) return false;
  pair_ = std::move(pair);
  return true;
}

void TlsCertificate::attach(ssl_ctx_st* ctx) {
  SSL_CTX_set_cert_cb(ctx, on_handshake, this);
}

// Runs for each handshake once the ClientHello is in: the connection gets its
// own references to the current certificate, chain and key.
int TlsCertificate::on_handshake(ssl_st* ssl, void* self) {
  const Pair* pair = static_cast<TlsCertificate*>(self)->pair_.get();
  if (!pair) return 1;
  SSL_certs_clear(ssl);
  return SSL_use_cert_and_key(ssl, pair->leaf.get(), pair->key.get(), pair->chain.get(), 1) == 1
             ? 1
             : 0;
}

}  // namespace daheim::transport
