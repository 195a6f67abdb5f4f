// A node that has not noticed yet that its client's transport died must not
// write the old session over the one the new owner saved (issue 15). The
// client's network to A goes away (A's side of the connection stays open and
// silent); the client recovers on B and joins a room there. When A's ping
// timeout fires, A's save of the old session (without that room) is refused.
// B is then SIGKILLed and the client comes back to A: it still gets what was
// sent to the room it joined on B.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { scrape } from './lib/metrics.mjs';
import { CuttableProxy } from './lib/proxy.mjs';
import { startRedis } from './lib/redis.mjs';
import { Recorder, WS, cmd, connected, io } from './lib/sio.mjs';
import { startServer } from './lib/server.mjs';
import { StreamsEmitter } from './lib/streams-emitter.mjs';
import { waitFor } from './lib/util.mjs';

let redis;
let control;
let emitter;

function nodeConfig() {
  return {
    testHandler: 'socketio-e2e',
    engineio: { pingInterval: 300, pingTimeout: 300 },
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
    cluster: { redis: redis.url, adapter: 'streams', reconnectMin: 50, reconnectMax: 500 },
  };
}

async function sessionHas(pid, room) {
  const text = await control.get(`sio:session:${pid}`);
  return text !== null && Buffer.from(text, 'base64').includes(room);
}

async function metric(node, name) {
  return (await scrape(node.url)).value(name);
}

before(async () => {
  redis = await startRedis();
  control = await redis.control();
  emitter = new StreamsEmitter(control);
});

after(async () => {
  await redis?.close();
});

describe('cluster: one writer per session', () => {
  test('the old node cannot write its stale session over the new owner\'s', async () => {
    const [A, B] = await Promise.all([startServer(nodeConfig()), startServer(nodeConfig())]);
    const proxy = new CuttableProxy(A.port);
    let socket;
    try {
      socket = io(await proxy.listen(), { forceNew: true, transports: WS, reconnectionDelay: 50,
        reconnectionDelayMax: 100, randomizationFactor: 0, autoConnect: false });
      const rec = new Recorder(socket);
      let recovered = 0;
      socket.on('connect', () => (recovered += socket.recovered ? 1 : 0));
      const up = connected(socket);
      socket.connect();
      await up;
      await cmd(socket, 'join', ['on-a']);
      const pid = socket._pid;
      await waitFor('A\'s session with its room', () => sessionHas(pid, 'on-a'));

      // The client's network to A goes away; it comes back through B.
      proxy.retarget(B.port);
      const back = new Promise((r) => socket.once('connect', r));
      proxy.sever();
      await back;
      assert.equal(recovered, 1, 'recovered on B');
      await cmd(socket, 'join', ['on-b']);
      await waitFor('B\'s session with the room joined there', () => sessionHas(pid, 'on-b'));

      // A's ping timeout: its save of the old session is refused.
      await waitFor('A refused a stale write',
        async () => (await metric(A, 'daheim_recovery_stale_writes_refused_total')) >= 1);
      assert.ok(await sessionHas(pid, 'on-b'), 'B\'s session is still there');
      assert.equal(await metric(B, 'daheim_recovery_stale_writes_refused_total'), 0);

      // B dies; what is sent to on-b meanwhile reaches the client on A.
      proxy.blocked = true;
      await B.stop('SIGKILL');
      proxy.cut();
      const sent = await emitter.emit('lesson', ['to on-b'], { rooms: ['on-b'] });
      proxy.retarget(A.port);
      const again = new Promise((r) => socket.once('connect', r));
      proxy.blocked = false;
      await again;
      assert.equal(recovered, 2, 'recovered on A');
      assert.deepEqual(await rec.next('lesson'), ['to on-b', sent]);
      assert.deepEqual((await cmd(socket, 'rooms')).sort(), [socket.id, 'on-a', 'on-b'].sort());
    } finally {
      socket?.io.reconnection(false);
      socket?.disconnect();
      proxy.close();
      await Promise.allSettled([A.stop(), B.stop('SIGKILL')]);
    }
  });
});
