// `daheim-live token`: a development token signed with auth.devSecret that
// passes the configured checks (first issuer, first audience).
#pragma once

#include <string>

#include "app/cli.hpp"
#include "app/config.hpp"

namespace daheim::app {

// Returns the token, or an empty string and `error` (config problem).
std::string make_dev_token(const Config& config, const Arguments& args, std::string& error);

}  // namespace daheim::app
