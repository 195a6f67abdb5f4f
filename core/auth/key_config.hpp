// Where the verification keys come from (the `auth` section of the config file).
#pragma once

#include <string>
#include <vector>

namespace daheim::auth {

struct KeyConfig {
  // A file holding one HMAC secret: its raw bytes, with trailing CR/LF removed (so `echo` or
  // an editor's final newline is harmless). At least 32/48/64 bytes for HS256/384/512.
  struct Secret {
    std::string path;
    std::string alg = "HS256";  // HS256, HS384 or HS512
    std::string kid;            // optional; empty: selected for tokens without `kid`
  };
  // A PEM public key or certificate with the algorithm it is for.
  struct Pem {
    std::string path;
    std::string alg;  // required: RS256 ... EdDSA (see Key::from_pkey for the key types)
    std::string kid;  // optional
  };

  std::vector<Secret> hmac_secret_files;
  std::vector<Pem> pem_files;
  // JWKS files ({"keys": [...]}); see key_from_jwk() in jwk.hpp for the accepted keys.
  std::vector<std::string> jwks_files;
};

}  // namespace daheim::auth
