// End-to-end: Engine.IO 3 / Socket.IO protocol 4 clients (socket.io-client
// 2.5.0 from npm, installed as "socket.io-client-v2") against the real binary
// with engineio.allowEIO3 on: polling (binary XHR2 payloads and base64 ones),
// WebSocket and the upgrade; the token as access_token in the handshake
// query; acks, binary both ways, rooms and the presence plugin's events;
// client-driven heartbeats; and EIO=3 refused while allowEIO3 is off.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';

import jwt from 'jsonwebtoken';
import ioV2 from 'socket.io-client-v2';

import { Recorder } from './lib/sio.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { request, withTimeout } from './lib/util.mjs';

// The v3 payload codec socket.io-client 2.x itself uses, to read our bytes.
const parserV3 = createRequire(import.meta.url)('socket.io-client-v2/node_modules/engine.io-parser');

const secret = crypto.randomBytes(32).toString('hex');

const token = (sub, role) => jwt.sign({ sub, role }, secret, { algorithm: 'HS256', audience: 'realtime', expiresIn: 3600 });

function config(engineio = {}) {
  return {
    testHandler: undefined,
    engineio: { allowEIO3: true, pingInterval: 300, pingTimeout: 300, ...engineio },
    auth: { devSecret: secret, audiences: ['realtime'] },
    plugins: [
      { path: path.join(pluginsDir, 'test', 'alpha.so'), config: { workers: 1 } },
      { path: path.join(pluginsDir, 'presence', 'presence.so'), config: { onlineInterval: 50 } },
    ],
  };
}

// socket.io-client 2.x has no onAny: record events through its onevent.
function record(socket) {
  socket.onAny = (fn) => {
    const onevent = socket.onevent;
    socket.onevent = function (packet) {
      const [event, ...args] = packet.data || [];
      fn(event, ...args);
      onevent.call(this, packet);
    };
  };
  return new Recorder(socket);
}

function connectV2(url, user, role, opts = {}) {
  const socket = ioV2(url, {
    forceNew: true,
    reconnection: false,
    query: { access_token: token(user, role) },
    ...opts,
  });
  const rec = record(socket);
  const up = withTimeout(
    new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e) => reject(new Error(`error: ${JSON.stringify(e)}`)));
      socket.once('connect_error', (e) => reject(e));
    }),
    10000,
    `v2 connect of ${user}`,
  );
  return { socket, rec, up };
}

const ack = (socket, ...args) =>
  withTimeout(new Promise((resolve) => socket.emit(...args, (...answer) => resolve(answer))), 5000, String(args[0]));

const variants = {
  polling: { transports: ['polling'] },
  'polling, base64': { transports: ['polling'], forceBase64: true },
  websocket: { transports: ['websocket'] },
  'polling then websocket': { transports: ['polling', 'websocket'] },
};

describe('socket.io-client 2.x (Engine.IO 3) with allowEIO3', () => {
  let srv;
  const open = [];
  before(async () => {
    srv = await startServer(config());
  });
  after(async () => {
    for (const s of open) s.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  let n = 0;
  for (const [name, opts] of Object.entries(variants)) {
    it(`${name}: connects with access_token, acks, binary, rooms, presence`, async () => {
      const user = `student-${++n}`;
      const c = connectV2(srv.url, user, 'student', opts);
      open.push(c.socket);
      await c.up;
      // The id is the Engine.IO sid, as socket.io 4 gives protocol 4 clients.
      assert.equal(c.socket.id, c.socket.io.engine.id);
      const [welcome] = await c.rec.next('welcome');
      assert.deepEqual(welcome, { plugin: 'alpha', id: c.socket.id });
      const online = await c.rec.next('online');
      assert.equal(typeof online[0].students, 'number');

      assert.deepEqual(await ack(c.socket, 'echo', 1, 'é€😀', { b: [true, null] }), [1, 'é€😀', { b: [true, null] }]);
      assert.deepEqual(await ack(c.socket, 'add', 2, 3), [5]);
      const [who] = await ack(c.socket, 'whoami');
      assert.equal(who.id, c.socket.id);
      assert.equal(who.claims.sub, user);
      assert.equal(who.query.EIO, '3');

      const bin = Buffer.from([0, 1, 2, 253, 254, 255]);
      const [echoed, nested] = await ack(c.socket, 'echo', bin, { deep: [Buffer.from('x')] });
      assert.ok(Buffer.isBuffer(echoed), `binary came back as ${typeof echoed}`);
      assert.deepEqual([...echoed], [...bin]);
      assert.deepEqual([...nested.deep[0]], [...Buffer.from('x')]);

      assert.deepEqual(await ack(c.socket, 'join', 'lobby'), [true]);
      assert.deepEqual(await ack(c.socket, 'toRoom', 'lobby', 'roomie', { n }), [true]);
      assert.deepEqual(await c.rec.next('roomie'), [{ n }]);

      assert.deepEqual(await ack(c.socket, 'ready', { ready: true, topic: 'maths' }), [{}]);
      assert.deepEqual(await c.rec.next('userIsReady'), [{ topic: 'maths' }]);

      if (opts.transports.length === 2) {
        await withTimeout(
          new Promise((resolve) => {
            if (c.socket.io.engine.transport.name === 'websocket') resolve();
            else c.socket.io.engine.once('upgrade', resolve);
          }),
          10000,
          'upgrade',
        );
        assert.deepEqual(await ack(c.socket, 'echo', 'after upgrade'), ['after upgrade']);
      }
      c.socket.close();
    });
  }

  it('a teacher sees students come and go (presence events to a room)', async () => {
    const t = connectV2(srv.url, 'teacher-1', 'teacher', variants.websocket);
    open.push(t.socket);
    await t.up;
    const s = connectV2(srv.url, 'student-x', 'student', variants.polling);
    open.push(s.socket);
    await s.up;
    const seen = async (pred) => {
      for (;;) {
        const [v] = await t.rec.next('online');
        if (pred(v)) return v;
      }
    };
    assert.ok((await seen((v) => v.students >= 1 && v.teachers >= 1)).students >= 1);
    s.socket.close();
  });

  it('the client pings, the server answers: the session outlives several timeouts', async () => {
    const c = connectV2(srv.url, 'pinger', 'student', variants.polling);
    open.push(c.socket);
    await c.up;
    let pongs = 0;
    await withTimeout(
      new Promise((resolve) => {
        c.socket.on('pong', () => {
          if (++pongs === 4) resolve();
        });
      }),
      10000,
      'four pongs',
    );
    assert.equal(c.socket.connected, true);
    assert.deepEqual(await ack(c.socket, 'add', 1, 1), [2]);
    c.socket.close();
  });

  it('a bad token: the error carries the refusal, nothing connects', async () => {
    const socket = ioV2(srv.url, { forceNew: true, reconnection: false, query: { access_token: 'nope' }, transports: ['websocket'] });
    open.push(socket);
    const err = await withTimeout(new Promise((resolve) => socket.once('error', resolve)), 10000, 'error');
    assert.equal(typeof err, 'object', JSON.stringify(err));
    assert.equal(typeof err.code, 'string', JSON.stringify(err));
    assert.equal(socket.connected, false);
  });

  it('the handshake: v3 framing of the open packet, then 40 unasked', async () => {
    const r = await request(`${srv.url}/socket.io/?EIO=3&transport=polling&access_token=${token('raw', 'student')}`);
    assert.equal(r.status, 200, r.body);
    const m = /^(\d+):0(\{.*\})$/.exec(r.body);
    assert.ok(m, r.body);
    assert.equal(Number(m[1]), m[2].length + 1);
    const open = JSON.parse(m[2]);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, 300);
    const next = await request(`${srv.url}/socket.io/?EIO=3&transport=polling&sid=${open.sid}`);
    assert.equal(next.status, 200);
    assert.match(next.body, /^2:40/);

    // A binary event with an ack in an XHR2 binary payload, encoded and the
    // answer decoded by engine.io-parser 2.x (the client's own codec).
    const payload = await new Promise((resolve) =>
      parserV3.encodePayload(
        [
          { type: 'message', data: '51-7["echo",{"_placeholder":true,"num":0}]' },
          { type: 'message', data: Buffer.from([9, 8, 7]) },
        ],
        true,
        resolve,
      ),
    );
    assert.ok(Buffer.isBuffer(payload));
    const url = `${srv.url}/socket.io/?EIO=3&transport=polling&sid=${open.sid}`;
    const posted = await request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: payload });
    assert.deepEqual([posted.status, posted.body], [200, 'ok']);
    const packets = [];
    let binaryPayloads = 0;
    for (let i = 0; i < 10 && !packets.some((p) => Buffer.isBuffer(p.data)); i++) {
      const res = await request(url, { binary: true });
      assert.equal(res.status, 200);
      const binary = res.headers['content-type'] === 'application/octet-stream';
      if (binary) ++binaryPayloads;
      const body = binary ? res.body : res.body.toString('utf8');
      parserV3.decodePayload(body, 'nodebuffer', (p) => {
        packets.push(p);
      });
    }
    const ackAt = packets.findIndex((p) => p.data === '61-7[{"_placeholder":true,"num":0}]');
    assert.ok(ackAt >= 0, JSON.stringify(packets));
    assert.equal(packets[ackAt].type, 'message');
    assert.deepEqual([...packets[ackAt + 1].data], [9, 8, 7]);
    assert.equal(binaryPayloads, 1, 'the answer with an attachment came as a binary payload');
  });
});

describe('allowEIO3 off (the default)', () => {
  it('refuses EIO=3 handshakes with "Unsupported protocol version"', async () => {
    const srv = await startServer({ ...config(), engineio: {} });
    try {
      const r = await request(`${srv.url}/socket.io/?EIO=3&transport=polling`);
      assert.equal(r.status, 400);
      assert.deepEqual(JSON.parse(r.body), { code: 5, message: 'Unsupported protocol version' });
      const socket = ioV2(srv.url, { forceNew: true, reconnection: false, transports: ['polling'] });
      await withTimeout(new Promise((resolve) => socket.once('connect_error', resolve)), 10000, 'connect_error');
      socket.close();
    } finally {
      await srv.stop();
    }
  });
});
