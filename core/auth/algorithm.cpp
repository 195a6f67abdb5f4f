#include "auth/algorithm.hpp"

#include <array>
#include <utility>

namespace daheim::auth {
namespace {

constexpr std::array<std::pair<Algorithm, std::string_view>, 12> kNames{{
    {Algorithm::HS256, "HS256"},
    {Algorithm::HS384, "HS384"},
    {Algorithm::HS512, "HS512"},
    {Algorithm::RS256, "RS256"},
    {Algorithm::RS384, "RS384"},
    {Algorithm::RS512, "RS512"},
    {Algorithm::PS256, "PS256"},
    {Algorithm::PS384, "PS384"},
    {Algorithm::PS512, "PS512"},
    {Algorithm::ES256, "ES256"},
    {Algorithm::ES384, "ES384"},
    {Algorithm::EdDSA, "EdDSA"},
}};

}  // namespace

std::string_view name(Algorithm alg) {
  for (const auto& [a, n] : kNames) {
    if (a == alg) return n;
  }
  return "?";
}

std::optional<Algorithm> parse_algorithm(std::string_view text) {
  for (const auto& [a, n] : kNames) {
    if (n == text) return a;
  }
  return std::nullopt;
}

bool is_hmac(Algorithm alg) {
  return alg == Algorithm::HS256 || alg == Algorithm::HS384 || alg == Algorithm::HS512;
}

}  // namespace daheim::auth
