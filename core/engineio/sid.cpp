#include "engineio/sid.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace daheim::engineio {

std::string generate_id() {
  static constexpr char kUrlAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[15];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    std::fputs("<2>fatal: CSPRNG failure while generating an id\n", stderr);
    std::abort();
  }
  std::string id;
  id.reserve(kIdLength);
  for (std::size_t i = 0; i < sizeof raw; i += 3) {
    unsigned v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    id += kUrlAlphabet[(v >> 18) & 63];
    id += kUrlAlphabet[(v >> 12) & 63];
    id += kUrlAlphabet[(v >> 6) & 63];
    id += kUrlAlphabet[v & 63];
  }
  return id;
}

}  // namespace daheim::engineio
