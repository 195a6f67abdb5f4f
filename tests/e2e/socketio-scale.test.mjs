// End-to-end at some scale: broadcasts to 500 socket.io-client connections,
// each receiving every packet exactly once, a broadcast with acks collecting
// 500 answers, and 1000 acks in flight on one socket in both directions.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { POLLING, Pool, WS, cmd, normalize, startSioServer } from './lib/sio.mjs';

const CLIENTS = 500;
const ACKS = 1000;

describe('socket.io-client at scale', () => {
  let srv;
  const pool = new Pool();
  before(async () => {
    // One socket sends ACKS + 1 events in one go: above the default burst (1000).
    srv = await startSioServer({ maxPendingAcks: ACKS, eventBurst: 2 * ACKS });
  });
  after(async () => {
    pool.close();
    // A clean exit: no crash while tearing down what the tests left behind.
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  // Connects n websocket clients, `batch` at a time.
  async function connectMany(n, batch = 50) {
    const out = [];
    for (let i = 0; i < n; i += batch) {
      const k = Math.min(batch, n - i);
      out.push(...(await Promise.all(Array.from({ length: k }, () => pool.connect(srv.url, '/', { transports: WS })))));
    }
    return out;
  }

  it(`broadcasts to ${CLIENTS} clients: each receives each packet exactly once`, async () => {
    const clients = await connectMany(CLIENTS);
    const sender = await pool.connect(srv.url, '/', { transports: WS });
    // Every client is in "all"; odd ones also in "odd" (two matching rooms).
    await Promise.all(clients.map((c, i) => cmd(c.socket, 'join', i % 2 ? ['all', 'odd'] : ['all'])));

    const payload = Buffer.from('shared binary frame');
    const fences = clients.map((c) => c.rec.next('fence', 20000));
    const results = await cmd(sender.socket, 'broadcast', [
      { event: 'b1', rooms: ['all', 'odd'], args: [1, { text: 'é' }] },
      { event: 'b2', rooms: ['all'], except: ['odd'] },
      { event: 'fence', rooms: ['all'], args: [] },
    ], payload);
    assert.deepEqual(results, [true, true, true]);
    // A second broadcast command, through socket.broadcast (sender excluded).
    const fences2 = clients.map((c) => c.rec.next('fence2', 20000));
    assert.deepEqual(await cmd(sender.socket, 'broadcast', [
      { event: 'b3', exceptSelf: true, args: ['three'] },
      { event: 'fence2', exceptSelf: true, args: [] },
    ]), [true, true]);
    // Each connection delivers in order: once the fences are in, nothing
    // broadcast before them is still on the way.
    await Promise.all(fences);
    await Promise.all(fences2);

    const wrong = [];
    for (const [i, c] of clients.entries()) {
      const want = { b1: 1, b2: i % 2 ? 0 : 1, b3: 1, fence: 1, fence2: 1 };
      for (const [event, n] of Object.entries(want)) {
        if (c.rec.count(event) !== n) wrong.push(`client ${i}: ${event} × ${c.rec.count(event)}`);
      }
    }
    assert.deepEqual(wrong, []);
    for (const c of clients.slice(0, 10)) {
      assert.deepEqual(await c.rec.next('b1'), [1, { text: 'é' }]);
      assert.deepEqual(await c.rec.next('b3'), ['three']);
    }
    assert.deepEqual(normalize(await clients[0].rec.next('b2')), [payload]);
    assert.equal(sender.rec.count('b3'), 0);
    assert.equal(sender.rec.count('fence2'), 0);

    // A broadcast with ack collects one answer per client.
    clients.forEach((c, i) => c.socket.on('count-off', (cb) => cb(i)));
    assert.equal(
      await cmd(sender.socket, 'broadcast-with-ack', { event: 'count-off', rooms: ['all'], timeoutMs: 15000 }),
      true,
    );
    const [timedOut, ...answers] = await sender.rec.next('broadcast-ack-result', 20000);
    assert.equal(timedOut, false);
    assert.deepEqual(
      answers.map((a) => a[0]).sort((x, y) => x - y),
      Array.from({ length: CLIENTS }, (_, i) => i),
    );

    for (const c of clients) c.socket.disconnect();
  });

  for (const transports of [WS, POLLING]) {
    it(`${ACKS} acks in flight on one socket, both directions (${transports})`, async () => {
      const { socket, rec } = await pool.connect(srv.url, '/', { transports });

      // Client → server: all sent before the first answer arrives.
      const answers = await Promise.all(
        Array.from({ length: ACKS }, (_, i) => socket.timeout(15000).emitWithAck('echo', i, `n${i}`)),
      );
      assert.deepEqual(answers, Array.from({ length: ACKS }, (_, i) => i));

      // Server → client: the server emits ACKS events with an ack in one go
      // (its maxPendingAcks is ACKS here: one more is refused).
      let n = 0;
      socket.on('q', (tag, cb) => cb(tag, n++));
      assert.equal(await cmd(socket, 'emit-with-ack', { event: 'q', timeoutMs: 15000, count: ACKS + 1 }, 't'), ACKS);
      const results = [];
      for (let i = 0; i < ACKS; i++) results.push(await rec.next('ack-result', 15000));
      assert.ok(results.every(([timedOut, tag]) => timedOut === false && tag === 't'));
      assert.deepEqual(
        results.map((r) => r[2]).sort((x, y) => x - y),
        Array.from({ length: ACKS }, (_, i) => i),
      );
      socket.disconnect();
    });
  }
});
