// A stopping server (SIGTERM) and the WebSocket close codes, on every event
// loop (DAHEIM_EVENT_LOOP). While it drains the server accepts nothing: a
// new TCP connection is refused by the kernel (so a reconnecting client goes
// to another node), a request on a connection accepted before gets 503
// "Server shutting down", and the drain ends once every session is gone,
// however many there were. The close codes the server sends (1000 at a
// session's end, 1009 for a message over maxPayload, 1001 to a WebSocket
// that arrives while it drains) reach the client with their reasons.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';

import { scrape } from './lib/metrics.mjs';
import { CuttableProxy } from './lib/proxy.mjs';
import { startRedis } from './lib/redis.mjs';
import { startServer } from './lib/server.mjs';
import { io, startSioServer } from './lib/sio.mjs';
import { spawnTied } from './lib/spawn.mjs';
import { pollingHandshake, rawConnect, RawHttp, rawWs, tcpConnect, waitFor, withTimeout } from './lib/util.mjs';

const buildDir = process.env.DAHEIM_BUILD_DIR || path.resolve('build');
const loadgen = process.env.DAHEIM_LOADGEN_BIN || path.join(buildDir, 'bench/daheim-loadgen');

const upgradeRequest = (srv) =>
  `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n` +
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
const handshakeRequest = (srv) =>
  `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`;

// The HTTP response on `conn` (a rawConnect) after its first `from`
// characters, once its body is in.
async function response(conn, from = 0) {
  await waitFor('an HTTP response', () => /\r\n\r\n[^]*\}$/.test(conn.received().slice(from)), 5000);
  return conn.received().slice(from);
}

// A connection the server has accepted: a connect alone may still wait in
// the listen backlog, which the drain's closing of the listening socket
// drops. A request for an unknown session is answered 400 and keeps the
// connection (and opens no session). Resolves with the connection and the
// length of what it has received.
async function acceptedConnection(srv) {
  const unknown = `GET /socket.io/?EIO=4&transport=polling&sid=none HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`;
  const conn = await rawConnect(srv, unknown);
  const first = await response(conn);
  assert.match(first, /^HTTP\/1\.1 400 /);
  return { conn, from: first.length };
}

describe('a draining server', () => {
  test('refuses new connections, answers 503 on the ones it had, exits 0', async () => {
    const srv = await startServer({ drainTime: 3000, drainPollingGrace: 3000 });
    try {
      // A polling session that never polls again keeps the drain going (its
      // close packet waits for a GET) for drainPollingGrace, here drainTime.
      await pollingHandshake(srv.url);
      // Connections accepted before the stop, their requests sent after it.
      const polling = await acceptedConnection(srv);
      const upgrade = await acceptedConnection(srv);
      assert.equal(await tcpConnect(srv.port), 'connected');
      const t0 = performance.now();
      srv.child.kill('SIGTERM');
      await srv.waitForLog(/stopping: closing 1 sessions/, 5000);
      assert.equal(await tcpConnect(srv.port), 'ECONNREFUSED');
      polling.conn.sock.write(handshakeRequest(srv));
      const answer = await response(polling.conn, polling.from);
      assert.match(answer, /^HTTP\/1\.[01] 503 /);
      assert.match(answer, /\r\nretry-after: 1\r\n/i);
      assert.ok(answer.endsWith('\r\n\r\n{"code":4,"message":"Server shutting down"}'), answer);
      upgrade.conn.sock.write(upgradeRequest(srv));
      assert.match(await response(upgrade.conn, upgrade.from), /^HTTP\/1\.[01] 503 /);
      assert.equal(await tcpConnect(srv.port), 'ECONNREFUSED');
      assert.ok(performance.now() - t0 < 2500, 'all of it while the server drained');
      assert.deepEqual(await srv.exited, { code: 0, signal: null }, srv.logs());
    } finally {
      await srv.stop();
    }
  });

  test('2,000 WebSocket sessions: the drain ends as soon as they are closed, exit 0', async () => {
    const N = 2000;
    const srv = await startServer({ drainTime: 10000 });
    const gen = spawnTied(loadgen, ['idle', '--port', String(srv.port), '--conns', String(N), '--hold', '300'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let genErr = '';
    gen.stderr.on('data', (d) => (genErr += d));
    try {
      let seen, most = 0;
      await waitFor(
        `${N} websocket sessions`,
        async () => {
          seen = (await scrape(srv.url)).value('daheim_engineio_sessions', { transport: 'websocket' });
          most = Math.max(most, seen ?? 0);
          return seen === N;
        },
        60000,
      ).catch((err) =>
        assert.fail(`${err.message}: ${seen} at the end, ${most} at most\nloadgen: ${genErr}\n${srv.logs().slice(-3000)}`),
      );
      const t0 = performance.now();
      srv.child.kill('SIGTERM');
      assert.deepEqual(await withTimeout(srv.exited, 15000, 'exit'), { code: 0, signal: null }, srv.logs());
      const took = performance.now() - t0;
      assert.match(srv.logs(), new RegExp(`stopping: closing ${N} sessions`));
      assert.match(srv.logs(), /stopping: drained in \d+ ms/);
      // On a quiet machine it takes about 0.2 s; drainTime is 10 s.
      assert.ok(took < 5000, `the drain of ${N} sessions took ${Math.round(took)} ms`);
    } finally {
      gen.kill('SIGKILL');
      await srv.stop();
    }
  });
});

// A long-polling session whose GET is not held when the drain starts (its
// client between an answer and its next GET) ends promptly: a GET on a
// connection the server had accepted gets the close packet as a held one
// does, and without one the session is closed after drainPollingGrace, its
// state saved for recovery, instead of holding the drain until drainTime.
describe('a draining server and polling sessions with no GET held', () => {
  const drained = (srv) => Number(/stopping: drained in (\d+) ms/.exec(srv.logs())?.[1]);

  test('a GET on a connection accepted before gets the close packet; the drain ends with it', async () => {
    const srv = await startServer({ drainTime: 10000, drainPollingGrace: 5000 });
    try {
      const c = await new RawHttp(srv).open();
      const open = await c.send('GET', 'EIO=4&transport=polling');
      const { sid } = JSON.parse(open.body.slice(1));
      srv.child.kill('SIGTERM');
      await srv.waitForLog(/stopping: closing 1 sessions/, 5000);
      const close = await c.send('GET', `EIO=4&transport=polling&sid=${sid}`);
      assert.match(close.head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(close.body, '1');
      assert.deepEqual(await withTimeout(srv.exited, 15000, 'exit'), { code: 0, signal: null }, srv.logs());
      assert.ok(drained(srv) < 5000, `drained at the GET, not after the grace: ${srv.logs()}`);
    } finally {
      await srv.stop();
    }
  });

  test('no GET at all: closed after drainPollingGrace, the server exits long before drainTime', async () => {
    const srv = await startServer({ drainTime: 10000, drainPollingGrace: 300 });
    try {
      await pollingHandshake(srv.url);
      const t0 = performance.now();
      srv.child.kill('SIGTERM');
      assert.deepEqual(await withTimeout(srv.exited, 15000, 'exit'), { code: 0, signal: null }, srv.logs());
      const took = performance.now() - t0;
      assert.ok(drained(srv) >= 300, `the grace was waited: ${srv.logs()}`);
      assert.ok(took < 5000, `exited ${Math.round(took)} ms after SIGTERM (drainTime 10000)`);
    } finally {
      await srv.stop();
    }
  });

  test('a socket.io polling client whose next GET is on its way recovers on another node', async () => {
    const redis = await startRedis();
    const config = {
      testHandler: 'socketio-e2e',
      drainTime: 10000,
      drainPollingGrace: 300,
      engineio: { pingInterval: 300, pingTimeout: 10000 },
      socketio: { connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
      cluster: { redis: redis.url, adapter: 'streams' },
    };
    const [A, B] = await Promise.all([startServer(config), startServer(config)]);
    const proxy = new CuttableProxy(A.port);
    const socket = io(await proxy.listen(), { forceNew: true, transports: ['polling'],
      reconnectionDelay: 100, reconnectionDelayMax: 300 });
    try {
      await withTimeout(new Promise((resolve) => socket.once('connect', resolve)), 10000, 'connect');
      const id = socket.id;
      // The held GET is answered with a ping; from then on what the client
      // sends (the pong, the next GET) stays in the proxy: A has no GET of
      // this session when it stops.
      await withTimeout(new Promise((resolve) => {
        const onPacket = (p) => {
          if (p.type !== 'ping') return;
          proxy.hold(); // before the client writes anything: its requests are asynchronous
          socket.io.engine.off('packet', onPacket);
          resolve();
        };
        socket.io.engine.on('packet', onPacket);
      }), 5000, 'a ping');
      const back = new Promise((resolve) => socket.once('connect', resolve));
      const t0 = performance.now();
      A.child.kill('SIGTERM');
      assert.deepEqual(await withTimeout(A.exited, 15000, 'exit'), { code: 0, signal: null }, A.logs());
      const took = performance.now() - t0;
      assert.ok(drained(A) >= 300, `no GET came, the grace was waited: ${A.logs()}`);
      assert.ok(took < 5000, `A exited ${Math.round(took)} ms after SIGTERM (drainTime 10000)`);
      proxy.retarget(B.port);
      proxy.release();
      proxy.cut();
      await withTimeout(back, 15000, 'the reconnect to B');
      assert.equal(socket.recovered, true, 'recovered on B');
      assert.equal(socket.id, id);
    } finally {
      socket.io.reconnection(false);
      socket.disconnect();
      proxy.close();
      await Promise.allSettled([A.stop('SIGKILL'), B.stop()]);
      await redis.close();
    }
  });
});

describe('WebSocket close codes', () => {
  test('1000 when the server ends the session', async () => {
    const srv = await startSioServer();
    try {
      const ws = await rawWs(srv.url, 'EIO=4&transport=websocket');
      assert.match((await ws.next()).data, /^0\{/);
      ws.ws.send('40');
      assert.match((await ws.next()).data, /^40\{"sid":/);
      ws.ws.send('42["close-transport"]');
      assert.deepEqual(await withTimeout(ws.closed, 5000, 'close'), { code: 1000, reason: '' });
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  test('1000 to every WebSocket on SIGTERM', async () => {
    const srv = await startServer({ drainTime: 3000 });
    try {
      const ws = await rawWs(srv.url, 'EIO=4&transport=websocket');
      assert.match((await ws.next()).data, /^0\{/);
      srv.child.kill('SIGTERM');
      assert.deepEqual(await withTimeout(ws.closed, 5000, 'close'), { code: 1000, reason: '' });
      assert.deepEqual(await srv.exited, { code: 0, signal: null }, srv.logs());
    } finally {
      await srv.stop();
    }
  });

  test('1009 for a message over maxPayload, whole or in fragments', async () => {
    const srv = await startServer({ engineio: { maxPayload: 1000 } });
    try {
      for (const fragments of [1, 3]) {
        const ws = await rawWs(srv.url, 'EIO=4&transport=websocket');
        assert.match((await ws.next()).data, /^0\{/);
        const text = '4' + 'x'.repeat(1500);
        const size = Math.ceil(text.length / fragments);
        for (let i = 0; i < fragments; i++)
          ws.ws.send(text.slice(i * size, (i + 1) * size), { fin: i === fragments - 1 });
        assert.deepEqual(await withTimeout(ws.closed, 5000, 'close'), { code: 1009, reason: 'Message over maxPayload' });
      }
      // The server goes on.
      const next = await rawWs(srv.url, 'EIO=4&transport=websocket');
      assert.match((await next.next()).data, /^0\{"sid":/);
      next.ws.close();
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });
});
