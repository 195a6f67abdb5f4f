// End-to-end: a plugin that keeps a socket handle (dhl_socket*) past its
// callback and uses it after the socket has left gets DHL_ERR_GONE from every
// host function, and the neighbour that may now hold the same table entry is
// not touched (issue 17). Run in the ASan build too (scripts/sanitize.sh, area
// e2e-plugins): before generation-checked handles this was a use after free.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Recorder, WS, connected, disconnected, io } from './lib/sio.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';

const GONE = -2; // DHL_ERR_GONE

async function connect(url) {
  const socket = io(url, { forceNew: true, reconnection: false, autoConnect: false, transports: WS });
  const rec = new Recorder(socket);
  const up = connected(socket);
  socket.connect();
  await up;
  await rec.next('welcome');
  return { socket, rec };
}

const call = (socket, event, ...args) => withTimeout(socket.emitWithAck(event, ...args), 5000, event);

describe('plugin boundary: a socket handle kept past its socket', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      testHandler: undefined,
      pluginDir: path.join(pluginsDir, 'test'),
      plugins: [{ path: 'alpha.so', config: { workers: 1 } }],
    });
  });
  after(async () => {
    // A clean exit: under ASan any report (a use after free) fails it here.
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('is refused with DHL_ERR_GONE; the neighbour holding its entry is untouched', async () => {
    const leaver = await connect(srv.url);
    assert.equal(await call(leaver.socket, 'keep'), true);
    const id = leaver.socket.id;
    leaver.socket.disconnect();
    await srv.waitForLog(new RegExp(`alpha: ${id} left`));

    // The next socket takes the freed table entry (with a new generation).
    const neighbour = await connect(srv.url);
    const used = await call(neighbour.socket, 'useKept');
    assert.deepEqual(used, { id: null, data: false, emit: GONE, join: GONE, disconnect: GONE });
    await srv.waitForLog(/plugin alpha: socket_info with the handle of a socket that has left \(refused: DHL_ERR_GONE\)/);
    // Nothing reached the neighbour, which stays connected and served.
    assert.equal(neighbour.rec.count('kept'), 0);
    assert.equal(neighbour.socket.connected, true);
    assert.equal(await call(neighbour.socket, 'add', 2, 3), 5);
    assert.equal(await call(neighbour.socket, 'join', 'r1'), true);

    // A handle kept while its socket is connected still works, from a later call.
    assert.equal(await call(neighbour.socket, 'keep'), true);
    const gone = disconnected(neighbour.socket);
    neighbour.socket.emit('useKept');
    assert.deepEqual(await neighbour.rec.next('kept'), []);
    assert.equal(await gone, 'io server disconnect');
  });
});
