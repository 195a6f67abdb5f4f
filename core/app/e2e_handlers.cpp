#include "app/e2e_handlers.hpp"

namespace daheim::app {

void install_e2e_handlers(socketio::Server& io) { (void)io; }

}  // namespace daheim::app
