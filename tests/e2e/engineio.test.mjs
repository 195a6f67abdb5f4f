// End-to-end: the real engine.io-client (npm) against the real daheim-live
// binary running its bare Engine.IO echo (testHandler "engineio-echo").

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { startServer } from './lib/server.mjs';
import { once, openClient, poll, toBuffer, withTimeout } from './lib/util.mjs';

const WS = { transports: ['websocket'] };
const POLLING = { transports: ['polling'] };
const UPGRADE = { transports: ['polling', 'websocket'] };

function bytes(n, seed = 7) {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}

// A string of n bytes of UTF-8 that mixes 1-, 2-, 3- and 4-byte characters.
function utf8Text(n) {
  const pieces = ['a', 'é', '€', '😀', 'z', '"', '\\', '\n'];
  let s = '';
  let len = 0;
  for (let i = 0; len < n; i++) {
    const p = pieces[i % pieces.length];
    const l = Buffer.byteLength(p);
    if (len + l > n) {
      s += 'x'.repeat(n - len);
      break;
    }
    s += p;
    len += l;
  }
  return s;
}

describe('engine.io-client echo', () => {
  let srv;
  const clients = [];
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    for (const c of clients) c.socket.close();
    await srv?.stop();
  });

  async function client(opts) {
    const c = await openClient(srv.url, opts);
    clients.push(c);
    return c;
  }

  it('websocket only: text messages are echoed in order', async () => {
    const { socket, inbox } = await client(WS);
    assert.equal(socket.transport.name, 'websocket');
    // (An empty message is left out: engine.io-parser turns "4" into undefined.)
    const msgs = ['hello', 'héllo € 😀', '{"json":[1,2,3]}', 'with\u001eseparator', '4', '\u0000'];
    for (const m of msgs) socket.send(m);
    const got = await inbox.take(msgs.length);
    assert.deepEqual(got, msgs);
    for (const g of got) assert.equal(typeof g, 'string');
    socket.close();
  });

  it('polling only: text messages are echoed in order', async () => {
    const { socket, inbox } = await client(POLLING);
    assert.equal(socket.transport.name, 'polling');
    // Sent in one go: the client batches them into one POST. (No \x1e in a
    // message: it is the payload separator and Engine.IO v4 does not escape it.)
    const msgs = ['hello', 'héllo € 😀', '{"json":[1,2,3]}', '4', 'b', '\u0000', 'x'.repeat(5000)];
    for (const m of msgs) socket.send(m);
    assert.deepEqual(await inbox.take(msgs.length), msgs);
    // And one at a time.
    for (let i = 0; i < 20; i++) {
      socket.send(`m${i}`);
      assert.equal(await inbox.next(), `m${i}`);
    }
    assert.equal(socket.transport.name, 'polling');
    socket.close();
  });

  it('polling → websocket upgrade: transport becomes websocket and order is kept', async () => {
    const { socket, inbox } = await client(UPGRADE);
    assert.equal(socket.transport.name, 'polling');
    const upgraded = once(socket, 'upgrade', 10000);
    let i = 0;
    // Keep sending while the upgrade happens so that messages straddle it.
    let upgradedAt = -1;
    socket.on('upgrade', () => {
      upgradedAt = i;
    });
    const sendSome = () => {
      for (let k = 0; k < 3; k++) socket.send(`n${i++}`);
    };
    sendSome();
    const timer = setInterval(sendSome, 5);
    try {
      await upgraded;
    } finally {
      clearInterval(timer);
    }
    assert.equal(socket.transport.name, 'websocket');
    for (let k = 0; k < 30; k++) socket.send(`n${i++}`);
    const got = await inbox.take(i, 10000);
    assert.deepEqual(
      got,
      Array.from({ length: i }, (_, k) => `n${k}`),
    );
    assert.ok(upgradedAt > 0, 'some messages were sent before the upgrade');
    socket.close();
  });

  for (const [name, opts] of [
    ['websocket', WS],
    ['polling', POLLING],
  ]) {
    it(`${name}: binary Buffer, ArrayBuffer and Uint8Array are echoed as binary`, async () => {
      const { socket, inbox } = await client(opts);
      const payload = Buffer.from([0, 1, 2, 3, 0xfe, 0xff, 0x1e, 0x34]);
      const ab = new ArrayBuffer(5);
      new Uint8Array(ab).set([9, 8, 7, 6, 5]);
      const u8 = new Uint8Array([0x42, 0x00, 0x80]);
      const sub = new Uint8Array(bytes(64).buffer, 8, 16); // a view with an offset
      socket.send(payload);
      socket.send('text between');
      socket.send(ab);
      socket.send(u8);
      socket.send(sub);
      socket.send(Buffer.alloc(0));
      const got = await inbox.take(6);
      assert.ok(Buffer.isBuffer(got[0]), `binary came back as ${typeof got[0]}`);
      assert.deepEqual(toBuffer(got[0]), payload);
      assert.equal(got[1], 'text between');
      assert.deepEqual(toBuffer(got[2]), Buffer.from([9, 8, 7, 6, 5]));
      assert.deepEqual(toBuffer(got[3]), Buffer.from([0x42, 0x00, 0x80]));
      assert.deepEqual(toBuffer(got[4]), Buffer.from(sub.buffer, sub.byteOffset, sub.byteLength));
      assert.ok(typeof got[5] !== 'string', 'empty binary stays binary');
      assert.equal(toBuffer(got[5]).length, 0);
      socket.close();
    });
  }

  it('binary survives the polling → websocket upgrade', async () => {
    const { socket, inbox } = await client(UPGRADE);
    socket.send(bytes(100, 1));
    assert.deepEqual(toBuffer(await inbox.next()), bytes(100, 1));
    if (socket.transport.name !== 'websocket') await once(socket, 'upgrade', 10000);
    socket.send(bytes(100, 2));
    assert.deepEqual(toBuffer(await inbox.next()), bytes(100, 2));
    socket.close();
  });

  it('200 concurrent clients each echo (half websocket, half polling with upgrade)', async () => {
    const N = 200;
    const opened = await Promise.all(
      Array.from({ length: N }, (_, k) => openClient(srv.url, k % 2 ? WS : UPGRADE, 30000)),
    );
    try {
      await Promise.all(
        opened.map(async ({ socket, inbox }, k) => {
          const msgs = Array.from({ length: 5 }, (_, j) => `c${k}-${j}`);
          for (const m of msgs) socket.send(m);
          socket.send(bytes(32, k + 1));
          const got = await inbox.take(6, 30000);
          assert.deepEqual(got.slice(0, 5), msgs);
          assert.deepEqual(toBuffer(got[5]), bytes(32, k + 1));
        }),
      );
      const ids = new Set(opened.map((c) => c.socket.id));
      assert.equal(ids.size, N, 'session ids are unique');
    } finally {
      for (const { socket } of opened) socket.close();
    }
  });

  it('a client close ends the session on the server', async () => {
    const { socket, closed } = await client(POLLING);
    const sid = socket.id;
    socket.close();
    assert.equal((await closed).reason, 'forced close');
    // The close packet was POSTed; the sid is then unknown. (A GET of ours
    // that the server handles before that POST overlaps the client's own
    // held GET: a bare 400, as the reference answers; ask again.)
    const res = await withTimeout(
      (async () => {
        for (;;) {
          const r = await poll(srv.url, sid);
          if (r.status === 400 && r.body) return r;
        }
      })(),
      3000,
      'sid forgotten after client close',
    );
    assert.deepEqual(JSON.parse(res.body), { code: 1, message: 'Session ID unknown' });
  });
});

describe('large payloads (1 MB)', () => {
  let srv;
  before(async () => {
    srv = await startServer({ engineio: { maxPayload: 4000000 } });
  });
  after(async () => {
    await srv?.stop();
  });

  for (const [name, opts] of [
    ['websocket', WS],
    ['polling', POLLING],
  ]) {
    it(`${name}: a 1 MB text message and a 1 MB binary message are echoed intact`, async () => {
      const { socket, inbox } = await openClient(srv.url, opts);
      try {
        const text = utf8Text(1 << 20);
        const bin = bytes(1 << 20, 3);
        socket.send(text);
        const gotText = await inbox.next(30000);
        assert.equal(typeof gotText, 'string');
        assert.equal(Buffer.byteLength(gotText), 1 << 20);
        assert.ok(gotText === text, 'text echoed byte for byte');
        socket.send(bin);
        const gotBin = toBuffer(await inbox.next(30000));
        assert.equal(gotBin.length, bin.length);
        assert.ok(gotBin.equals(bin), 'binary echoed byte for byte');
        // The session is still usable afterwards.
        socket.send('after');
        assert.equal(await inbox.next(), 'after');
      } finally {
        socket.close();
      }
    });
  }
});

describe('heartbeat', () => {
  let srv;
  const pingInterval = 200;
  const pingTimeout = 300;
  before(async () => {
    srv = await startServer({ engineio: { pingInterval, pingTimeout } });
  });
  after(async () => {
    await srv?.stop();
  });

  for (const [name, opts] of [
    ['websocket', WS],
    ['polling', POLLING],
  ]) {
    it(`${name}: a healthy client is pinged regularly and stays open`, async () => {
      const { socket, inbox, closed } = await openClient(srv.url, opts);
      let pings = 0;
      socket.on('ping', () => pings++);
      let isClosed = false;
      closed.then(() => {
        isClosed = true;
      });
      const start = Date.now();
      while (pings < 4) await once(socket, 'ping', pingInterval + pingTimeout + 500);
      const elapsed = Date.now() - start;
      assert.ok(elapsed >= 3 * pingInterval - 50, `4 pings took ${elapsed} ms`);
      assert.equal(isClosed, false);
      socket.send('still here');
      assert.equal(await inbox.next(), 'still here');
      socket.close();
    });

    it(`${name}: a client that never answers pings is closed by the server`, async () => {
      const { socket, closed } = await openClient(srv.url, opts);
      const sid = socket.id;
      // Swallow the pongs the client would send.
      const realSend = socket._sendPacket.bind(socket);
      socket._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : realSend(type, ...rest));
      const start = Date.now();
      const { reason } = await withTimeout(closed, 5000, 'close after missed pongs');
      const elapsed = Date.now() - start;
      assert.ok(
        ['transport close', 'transport error', 'ping timeout'].includes(reason),
        `close reason ${reason}`,
      );
      assert.ok(elapsed < pingInterval + pingTimeout + 1500, `closed after ${elapsed} ms`);
      // Whatever the client saw, the server must have dropped the session.
      const res = await poll(srv.url, sid);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), { code: 1, message: 'Session ID unknown' });
    });
  }
});

describe('server-side close', () => {
  it('SIGTERM closes websocket and polling clients and the process exits 0', async () => {
    const srv = await startServer();
    try {
      const a = await openClient(srv.url, WS);
      const b = await openClient(srv.url, POLLING);
      // Both sessions work before the shutdown.
      a.socket.send('a');
      b.socket.send('b');
      assert.equal(await a.inbox.next(), 'a');
      assert.equal(await b.inbox.next(), 'b');
      const t0 = Date.now();
      const exited = srv.stop('SIGTERM');
      const [ca, cb] = await withTimeout(Promise.all([a.closed, b.closed]), 8000, 'clients closed on SIGTERM');
      assert.ok(['transport close', 'transport error'].includes(ca.reason), `websocket: ${ca.reason}`);
      assert.ok(['transport close', 'transport error'].includes(cb.reason), `polling: ${cb.reason}`);
      const { code, signal } = await withTimeout(srv.exited, 8000, 'process exit');
      assert.equal(signal, null, `killed by ${signal}\n${srv.logs()}`);
      assert.equal(code, 0, srv.logs());
      // Once every session is gone there is nothing left to drain.
      const took = Date.now() - t0;
      assert.ok(took < 3000, `exited ${took} ms after SIGTERM although both clients were closed at once`);
      await exited;
    } finally {
      await srv.stop('SIGKILL');
    }
  });
});

