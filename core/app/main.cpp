// daheim-live: the realtime server. Reads the configuration, wires the
// Engine.IO endpoint to its upper layer and runs the libwebsockets loop. It
// carries no test fixture (those are in daheim-live-test, main_test.cpp).
#include "app/entry.hpp"

int main(int argc, char** argv) {
  return daheim::app::run_main(argc, argv, nullptr);
}
