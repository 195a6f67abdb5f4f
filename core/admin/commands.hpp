// The admin UI's commands, applied to every socket of a namespace (or of
// one room of it: the UI names a socket by its own-id room), on every node
// of a cluster through the namespace's adapter:
//   emit(nsp, room|null, event, ...args)   join(nsp, room, filter?)
//   leave(nsp, room, filter?)              _disconnect(nsp, close, filter?)
#pragma once

#include <string_view>

#include "socketio/server.hpp"

namespace daheim::admin {

// `args`: the JSON array of the command's arguments. False: not a command,
// malformed, or a namespace the server does not have (nothing is done; the
// reference would create the namespace).
bool apply_command(socketio::Server& io, std::string_view command, std::string_view args);

}  // namespace daheim::admin
