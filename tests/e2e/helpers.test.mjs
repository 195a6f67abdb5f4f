// The e2e helpers themselves (tests/e2e/lib): a server that cannot start
// fails its test at once, saying why, instead of hanging until the runner's
// timeout.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { binaryPath, startServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';

const SOCKETIO = { testHandler: '', socketio: { namespaces: ['/'] } };

// What startServer(...args) rejects with, within 5 s.
function rejection(...args) {
  const started = startServer(...args).then(
    (srv) => srv.stop().then(() => assert.fail('the server started')),
    (err) => err,
  );
  return withTimeout(started, 5000, 'startServer rejecting');
}

describe('startServer (lib/server.mjs)', () => {
  it('rejects promptly on a config error, naming the binary, exit code 78 and the error line', async () => {
    const err = await rejection({ ...SOCKETIO, engineio: { pingInterval: 'soon' } });
    assert.ok(
      err.message.startsWith(`${binaryPath} exited before ready (exit code 78 (EX_CONFIG)); last stderr lines:\n`),
      err.message,
    );
    assert.match(err.message, /\ndaheim-live: config error: \S+config\.json: key engineio\.pingInterval: expected an integer/);
  });

  it('rejects promptly when the binary is missing, naming its path', async () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'daheim-helpers-')), 'no-such-daheim-live');
    const err = await rejection(SOCKETIO, { binary: missing });
    assert.equal(err.message, `cannot start ${missing}: spawn ${missing} ENOENT`);
  });
});
