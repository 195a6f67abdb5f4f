// Child processes that die with the test process that started them.
//
// spawnTied() runs the command under `setpriv --pdeathsig KILL` (util-linux;
// setpriv execs it, so the child's pid is the command's own): the kernel
// kills it when its parent ends, however that ends (a SIGKILL, the test
// runner's SIGTERM on a timeout, a failed test's process.exit), so no server,
// proxy or load generator is left behind on its port. A command given by a
// path that is no executable file is spawned as is, for spawn's own error
// ('spawn PATH ENOENT'): there is no process to tie.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// spawn(command, args, options), tied to this process's life.
export function spawnTied(command, args = [], options = {}) {
  if (command.includes('/') && !executable(command)) return spawn(command, args, options);
  return spawn('setpriv', ['--pdeathsig', 'KILL', command, ...args], options);
}
