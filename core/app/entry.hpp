// The command line shared by daheim-live and daheim-live-test: parses the
// arguments, reads the configuration and runs what they ask for.
#pragma once

#include "app/fixtures.hpp"

namespace daheim::app {

// Returns the process exit status. `fixtures` is null in the production
// binary: a config naming a testHandler is then refused (exit 78).
int run_main(int argc, char** argv, const Fixtures* fixtures);

}  // namespace daheim::app
