// The "admin" section: the Socket.IO admin UI's server side (core/admin).
#pragma once

#include <string>
#include <vector>

#include "admin/admin_options.hpp"
#include "app/config_reader.hpp"

namespace daheim::app {

// Reads "admin" (absent: off). `namespaces` are the application's: the admin
// namespace must not be one of them. Throws Failure naming the key.
void read_admin(ObjectReader& root, const std::string& config_path,
                const std::vector<std::string>& namespaces, admin::AdminOptions& out);

}  // namespace daheim::app
