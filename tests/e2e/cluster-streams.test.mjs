// cluster.adapter "streams": two daheim-live nodes (A, B) and a Node.js
// socket.io node with @socket.io/redis-streams-adapter 0.3 (N), all with
// connection-state recovery, on one redis-server started here, plus the API
// server's streams emitter (E). Broadcasts cross every pair both ways with
// the same stream id as offset everywhere; E reaches every node's clients;
// a session made on ours is restored by N and one made on N by ours, with
// the events sent while the client was away.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import { startNodePeer } from './lib/node-peer.mjs';
import { CuttableProxy } from './lib/proxy.mjs';
import { startRedis } from './lib/redis.mjs';
import { Pool, Recorder, cmd, connected, io, startSioServer, WS } from './lib/sio.mjs';
import { StreamsEmitter } from './lib/streams-emitter.mjs';
import { waitFor, withTimeout } from './lib/util.mjs';

const recovery = { maxDisconnectionDuration: 30000 };
const OFFSET = /^\d+-\d+$/;
const pool = new Pool();
let redis;
let nodes;
let control;
let emitter;
const extra = [];

before(async () => {
  redis = await startRedis();
  const cluster = { cluster: { redis: redis.url, adapter: 'streams', reconnectMin: 50, reconnectMax: 500 } };
  const sio = { connectionStateRecovery: recovery };
  const [A, B] = await Promise.all([startSioServer(sio, cluster), startSioServer(sio, cluster)]);
  const N = await startNodePeer(redis.url, { streams: true, recovery });
  nodes = { A, B, N };
  control = await redis.control();
  emitter = new StreamsEmitter(control);
  await waitFor('3 nodes on the public channel', async () => {
    const [, n] = await control.sendCommand(['PUBSUB', 'NUMSUB', 'socket.io#/#']);
    return Number(n) === 3;
  });
});

afterEach(() => {
  pool.close();
  for (const x of extra.splice(0)) x.close?.() ?? x.disconnect?.();
});

after(async () => {
  await nodes?.N.close();
  await Promise.allSettled([nodes?.A.stop(), nodes?.B.stop()]);
  await redis?.close();
});

async function clients() {
  const out = {};
  for (const name of ['A', 'B', 'N']) {
    out[name] = await pool.connect(nodes[name].url, '/', { transports: WS });
  }
  return out;
}

describe('cluster: streams adapter', () => {
  test('broadcasts cross every pair of nodes, each with one stream id as offset everywhere', async () => {
    const all = await clients();
    for (const sender of ['A', 'B', 'N']) {
      await cmd(all[sender].socket, 'broadcast', { event: 'x', args: [sender] });
      const got = await Promise.all(Object.values(all).map((c) => c.rec.next('x')));
      for (const args of got) {
        assert.equal(args[0], sender);
        assert.match(args[1], OFFSET, 'the offset is the stream entry id');
        assert.equal(args[1], got[0][1], 'the same offset on every node');
      }
      const [entry] = await control.sendCommand(['XRANGE', 'socket.io', got[0][1], got[0][1]]);
      assert.ok(entry, `${got[0][1]} is in the stream`);
    }
    // Rooms and except apply on every node.
    await cmd(all.A.socket, 'join', ['r']);
    await cmd(all.N.socket, 'join', ['r']);
    await cmd(all.B.socket, 'broadcast', { event: 'y', rooms: ['r'], args: [1] });
    await cmd(all.B.socket, 'broadcast', { event: 'y', args: [2], except: ['r'] });
    assert.equal((await all.A.rec.next('y'))[0], 1);
    assert.equal((await all.N.rec.next('y'))[0], 1);
    assert.equal((await all.B.rec.next('y'))[0], 2);
  });

  test('the streams emitter reaches the clients of every node, in rooms', async () => {
    const all = await clients();
    for (const c of [all.A, all.N]) await cmd(c.socket, 'join', ['news']);
    const id = await emitter.emit('news', [{ n: 1 }], { rooms: ['news'] });
    const fence = await emitter.emit('fence', [7]);
    for (const c of [all.A, all.N]) assert.deepEqual(await c.rec.next('news'), [{ n: 1 }, id]);
    for (const c of Object.values(all)) assert.deepEqual(await c.rec.next('fence'), [7, fence]);
    assert.equal(all.B.rec.count('news'), 0, 'B has nobody in the room');
  });

  // A client behind a proxy; its connection is cut, E sends two events to
  // its room, the proxy now leads to `to`, and the client comes back there.
  async function moveSession(from, to, join) {
    const proxy = new CuttableProxy(nodes[from].port);
    extra.push(proxy);
    const url = await proxy.listen();
    const socket = io(url, { forceNew: true, transports: WS, reconnectionDelay: 50,
      reconnectionDelayMax: 100, randomizationFactor: 0, autoConnect: false });
    extra.push(socket);
    const rec = new Recorder(socket);
    const up = connected(socket);
    socket.connect();
    await up;
    await cmd(socket, 'join', [join]);
    const before = await emitter.emit('lesson', ['before'], { rooms: [join] });
    assert.deepEqual(await rec.next('lesson'), ['before', before]);
    const sid = socket.id;
    const pid = socket._pid;
    assert.equal(typeof pid, 'string');
    proxy.blocked = true;
    proxy.cut();
    // The old node saved the session (ours while it lived, Node.js at the close).
    await waitFor('the session in Redis', async () => (await control.exists(`sio:session:${pid}`)) === 1);
    const missed = [await emitter.emit('lesson', ['m1'], { rooms: [join] }),
      await emitter.emit('lesson', ['m2'], { rooms: [join] })];
    await emitter.emit('lesson', ['other room'], { rooms: ['elsewhere'] });
    proxy.retarget(nodes[to].port);
    const back = withTimeout(new Promise((r) => socket.once('connect', r)), 10000, 'the reconnect');
    proxy.blocked = false;
    await back;
    assert.equal(socket.recovered, true, `${to} recovered the session made on ${from}`);
    assert.equal(socket.id, sid);
    assert.deepEqual(await rec.next('lesson'), ['m1', missed[0]]);
    assert.deepEqual(await rec.next('lesson'), ['m2', missed[1]]);
    assert.deepEqual((await cmd(socket, 'rooms')).sort(), [sid, join].sort());
    // Live again on the new node, through the stream.
    const live = await emitter.emit('lesson', ['live'], { rooms: [join] });
    assert.deepEqual(await rec.next('lesson'), ['live', live]);
    assert.equal(rec.count('lesson'), 4, 'nothing twice, nothing from another room');
  }

  test('a session made on ours is restored by the Node.js node', () => moveSession('A', 'N', 'l1'));
  test('a session made on the Node.js node is restored by ours', () => moveSession('N', 'B', 'l2'));
  test('a session moves between our nodes', () => moveSession('B', 'A', 'l3'));
});
