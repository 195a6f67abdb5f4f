// End-to-end, Socket.IO packets written by hand over raw Engine.IO
// transports (ws / HTTP long-polling) against the e2e fixture: what
// socket.io-client never sends, and what only shows on the wire.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Pool, cmd, startSioServer } from './lib/sio.mjs';
import { scrape } from './lib/metrics.mjs';
import { poll, pollingHandshake, post, rawWs, withTimeout } from './lib/util.mjs';

const CONNECT_TIMEOUT_MS = 400;

// A raw websocket session: resolves with { w, sid } after the open packet.
async function openWs(url) {
  const w = await rawWs(url, 'EIO=4&transport=websocket');
  assert.equal(w.unexpected, undefined, 'websocket upgrade accepted');
  const open = await w.next();
  assert.match(open.data, /^0\{/);
  return { w, sid: JSON.parse(open.data.slice(1)).sid };
}

// Resolves when the server closes the raw websocket `w`.
function serverCloses(w, ms = 5000) {
  return withTimeout(w.closed, ms, 'the server closes the websocket');
}

// Joins namespace `nsp` over a raw websocket: resolves with the socket id
// after the CONNECT reply and the fixture's auth and hello events.
async function joinWs(w, nsp = '/', auth = '') {
  const prefix = nsp === '/' ? '' : `${nsp},`;
  w.ws.send(`40${prefix}${auth}`);
  const reply = (await w.next()).data;
  assert.ok(reply.startsWith(`40${prefix}{`), reply);
  const { sid } = JSON.parse(reply.slice(2 + prefix.length));
  assert.ok((await w.next()).data.startsWith(`42${prefix}["auth",`));
  assert.ok((await w.next()).data.startsWith(`42${prefix}["hello",`));
  return sid;
}

describe('raw Socket.IO over Engine.IO', () => {
  let srv;
  const pool = new Pool();
  let probe; // a socket.io-client socket to ask the server why sockets left
  const raws = [];
  before(async () => {
    srv = await startSioServer({ connectTimeout: CONNECT_TIMEOUT_MS });
    probe = (await pool.connect(srv.url, '/', { transports: ['websocket'] })).socket;
  });
  after(async () => {
    for (const w of raws) w.ws.terminate();
    pool.close();
    // A clean exit: no crash while tearing down what the tests left behind.
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  async function ws() {
    const s = await openWs(srv.url);
    raws.push(s.w);
    return s;
  }

  it('connectTimeout closes a websocket connection that joins no namespace', async () => {
    // a joins at once; b never joins; c joins and leaves again.
    const a = await ws();
    await joinWs(a.w);
    const c = await ws();
    await joinWs(c.w, '/custom');
    c.w.ws.send('41/custom,');
    const t0 = Date.now();
    const b = await ws();
    // A refused CONNECT does not count as joining.
    b.w.ws.send('40/random,');
    assert.equal((await b.w.next()).data, '44/random,{"message":"Invalid namespace"}');
    await serverCloses(b.w);
    const waited = Date.now() - t0;
    assert.ok(waited >= CONNECT_TIMEOUT_MS - 50, `closed after ${waited} ms`);
    assert.deepEqual(b.w.frames, [], 'nothing else was sent');

    // a and c, older than b, are still open: a's socket answers, c can join again.
    a.w.ws.send('421["echo","alive"]');
    assert.equal((await a.w.next()).data, '431["alive"]');
    await joinWs(c.w, '/custom');
  });

  it('connectTimeout closes a polling connection that joins no namespace', async () => {
    // The server's timer starts when it answers the handshake, so the clock
    // starts before the request: a late answer (a loaded machine) cannot
    // make the wait look shorter than the timeout.
    const t0 = Date.now();
    const { sid } = await pollingHandshake(srv.url);
    // The held GET is answered with the close packet when the timer fires.
    const res = await poll(srv.url, sid, { timeout: 5000 });
    const waited = Date.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.body, '1');
    assert.ok(waited >= CONNECT_TIMEOUT_MS - 50, `closed after ${waited} ms`);
    assert.equal((await poll(srv.url, sid)).status, 400, 'the session is gone');
  });

  it('unknown namespace: CONNECT_ERROR "Invalid namespace", the connection stays open', async () => {
    const { w } = await ws();
    w.ws.send('40/random,');
    assert.equal((await w.next()).data, '44/random,{"message":"Invalid namespace"}');
    w.ws.send('40/random');
    assert.equal((await w.next()).data, '44/random,{"message":"Invalid namespace"}');
    await joinWs(w, '/custom', '{"token":"abc"}');
    w.ws.send('42/custom,7["echo",{"ok":true}]');
    assert.equal((await w.next()).data, '43/custom,7[{"ok":true}]');
  });

  it('binary event and ack with attachments at any depth', async () => {
    const { w } = await ws();
    await joinWs(w);
    w.ws.send('452-3["echo",{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]');
    w.ws.send(Buffer.from([1, 2]));
    w.ws.send(Buffer.from([3]));
    const head = await w.next();
    assert.equal(head.data, '462-3[{"_placeholder":true,"num":1},{"x":[{"_placeholder":true,"num":0}]}]');
    const a0 = await w.next();
    const a1 = await w.next();
    assert.ok(a0.isBinary && a1.isBinary);
    assert.deepEqual([...a0.data, ...a1.data], [1, 2, 3]);
  });

  it('server-side disconnect(true): DISCONNECT for every namespace, then the server closes the transport', async () => {
    const { w } = await ws();
    const main = await joinWs(w);
    const custom = await joinWs(w, '/custom');
    w.ws.send('42/custom,["disconnect-me",{"close":true}]');
    const got = [(await w.next()).data, (await w.next()).data].sort();
    assert.deepEqual(got, ['41', '41/custom,']);
    await serverCloses(w);
    assert.equal(await cmd(probe, 'disconnect-reason', main), 'server namespace disconnect');
    assert.equal(await cmd(probe, 'disconnect-reason', custom), 'server namespace disconnect');
  });

  it('server-side disconnect(false): DISCONNECT, the connection stays open', async () => {
    const { w } = await ws();
    const first = await joinWs(w);
    w.ws.send('42["disconnect-me",{"close":false}]');
    assert.equal((await w.next()).data, '41');
    // The client may join again.
    const second = await joinWs(w);
    assert.notEqual(second, first);
  });

  it('server-side disconnect(true) over polling: the GET carries the DISCONNECTs and the close', async () => {
    const { sid } = await pollingHandshake(srv.url);
    assert.equal((await post(srv.url, sid, '40')).body, 'ok');
    const greeting = (await poll(srv.url, sid)).body.split('\x1e');
    assert.match(greeting[0], /^40\{"sid":"[^"]+"\}$/);
    assert.equal((await post(srv.url, sid, '42["disconnect-me",{"close":true}]')).body, 'ok');
    let body = '';
    while (!body.split('\x1e').includes('1')) {
      const res = await poll(srv.url, sid, { timeout: 5000 });
      assert.equal(res.status, 200, `GET after disconnect: ${res.status} ${res.body}`);
      body += (body ? '\x1e' : '') + res.body;
    }
    assert.deepEqual(body.split('\x1e'), ['41', '1']);
  });

  // Each of these closes the whole Engine.IO connection (protocol.md §2.1, §2.2).
  for (const [what, frame] of [
    ['EVENT with an object payload (42{})', '42{}'],
    ['unknown packet type (4abc)', '4abc'],
    ['EVENT whose JSON does not parse', '42abc["x"]'],
    ['EVENT with a reserved name', '42["connect"]'],
    ['EVENT with an empty array', '42[]'],
    ['ACK with a non-array payload', '431{"a":1}'],
    ['DISCONNECT with a payload', '41{}'],
    ['CONNECT with a string payload', '40/custom,"token"'],
    ['BINARY_EVENT placeholder out of range', '451-["x",{"_placeholder":true,"num":1}]'],
    ['text while an attachment is pending', ['451-["x",{"_placeholder":true,"num":0}]', '42["y"]']],
  ]) {
    it(`parse error closes the connection: ${what}`, async () => {
      const { w } = await ws();
      const id = await joinWs(w);
      for (const f of [frame].flat()) w.ws.send(f);
      await serverCloses(w);
      assert.ok(
        ['parse error', 'forced close'].includes(await cmd(probe, 'disconnect-reason', id)),
        'the socket left with a close reason',
      );
    });
  }

  it('binary frame with no binary packet pending closes the connection', async () => {
    const { w } = await ws();
    await joinWs(w);
    w.ws.send(Buffer.from([1, 2, 3]));
    await serverCloses(w);
  });

  for (const [what, frame] of [
    ['an EVENT for a namespace not joined', '42/custom,["echo"]'],
    ['a second CONNECT for a joined namespace', '40'],
    ['a CONNECT_ERROR from the client', '44{"message":"x"}'],
  ]) {
    it(`invalid state closes the connection: ${what}`, async () => {
      const { w } = await ws();
      await joinWs(w);
      w.ws.send(frame);
      await serverCloses(w);
    });
  }

  // The reference (socket.io 4.8 lib/client.ts) closes with conn.close() on a
  // decoder error, so its sockets see engine.io's "forced close"; and with
  // Client.close() on an invalid state, whose sockets see "forced server
  // close". daheim-live reports the same.
  it('reason for a parse error is "forced close" as in the reference', async () => {
    const { w } = await ws();
    const id = await joinWs(w);
    w.ws.send('42{}');
    await serverCloses(w);
    assert.equal(await cmd(probe, 'disconnect-reason', id), 'forced close');
  });

  it('reason for an invalid state is "forced server close" as in the reference', async () => {
    const { w } = await ws();
    const id = await joinWs(w);
    w.ws.send('40');
    await serverCloses(w);
    assert.equal(await cmd(probe, 'disconnect-reason', id), 'forced server close');
  });
  it('a 4 KB batch goes to the kernel whole, not in receive-buffer-sized pieces', async () => {
    const { w } = await ws();
    await joinWs(w);
    const specs = Array.from({ length: 10 }, (_, i) => ({ self: true, event: `c${i}`, args: ['y'.repeat(400)] }));
    const before = await scrape(srv.url);
    w.ws.send(`421${JSON.stringify(['broadcast', specs])}`);
    for (let i = 0; i < 10; ++i) assert.equal((await w.next()).data, `42${JSON.stringify([`c${i}`, 'y'.repeat(400)])}`);
    await w.next();  // the ack
    const after = await scrape(srv.url);
    const delta = (m) => after.value(m) - before.value(m);
    assert.ok(delta('daheim_engineio_websocket_writes_total') >= 1);
    // lws sends at most tx_packet_size per send() and keeps the rest (with
    // the default of 0 that is wsReceiveBuffer, 512 bytes): nothing is held.
    assert.equal(delta('daheim_engineio_websocket_partial_writes_total'), 0);
  });

  it('frames queued in one loop turn leave in one write, each framed exactly', async () => {
    const { w, sid } = await ws();
    await joinWs(w);
    // One command, 20 events to itself and its ack: 21 frames queued in one
    // callback. Sizes around the 7-bit / 16-bit length boundary and beyond.
    const lengths = [1, 115, 116, 117, 0, 65, 3000, 12000, 5, 60, 125, 126, 7, 400, 2, 9000, 1, 300, 10, 4];
    const specs = lengths.map((n, i) => ({ self: true, event: `b${i}`, args: ['x'.repeat(n)] }));
    const before = await scrape(srv.url);
    w.ws.send(`421${JSON.stringify(['broadcast', specs])}`);
    for (let i = 0; i < lengths.length; ++i) {
      const frame = await w.next();
      assert.equal(frame.isBinary, false);
      assert.equal(frame.data, `42${JSON.stringify([`b${i}`, 'x'.repeat(lengths[i])])}`);
    }
    assert.equal((await w.next()).data, `431${JSON.stringify([lengths.map(() => true)])}`);
    const after = await scrape(srv.url);
    const delta = (m, labels) => after.value(m, labels) - before.value(m, labels);
    const frames = delta('daheim_engineio_messages_total', { direction: 'out' });
    const writes = delta('daheim_engineio_websocket_writes_total');
    assert.ok(frames >= 21, `${frames} frames`);
    // Anything else sent meanwhile (a heartbeat) is one write per frame.
    assert.equal(writes - (frames - 21), 1, `${writes} writes for ${frames} frames`);
    assert.ok(sid);
  });
});
