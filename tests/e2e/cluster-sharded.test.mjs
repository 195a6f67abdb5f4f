// The sharded adapter (createShardedAdapter, Redis 7 SPUBLISH/SSUBSCRIBE,
// dynamic subscriptions): two daheim-live nodes (A, B) and one Node.js node
// (N) on one redis-server started here. A broadcast to one room goes to that
// room's channel, which only nodes with a member subscribe: B, without
// members, receives nothing (its /metrics count of received messages).

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import { scrape } from './lib/metrics.mjs';
import { startNodePeer } from './lib/node-peer.mjs';
import { startRedis } from './lib/redis.mjs';
import { Pool, cmd, normalize, startSioServer, WS } from './lib/sio.mjs';
import { waitFor } from './lib/util.mjs';

const pool = new Pool();
let redis;
let nodes;
let control;

async function shardNumsub(channel) {
  const r = await control.sendCommand(['PUBSUB', 'SHARDNUMSUB', channel]);
  return Number(r[1]);
}

async function clients(...names) {
  const out = {};
  for (const name of names) {
    out[name] = await pool.connect(nodes[name[0]].url, '/', { transports: WS });
    out[name].name = name;
  }
  return out;
}

const received = async (node) => (await scrape(node.url)).value('daheim_cluster_received_total');

before(async () => {
  redis = await startRedis();
  const cluster = { cluster: { redis: redis.url, adapter: 'sharded' } };
  const [A, B] = await Promise.all([startSioServer({}, cluster), startSioServer({}, cluster)]);
  const N = await startNodePeer(redis.url, { sharded: true });
  nodes = { A, B, N };
  control = await redis.control();
  await waitFor('3 nodes on the main channel', async () => (await shardNumsub('socket.io#/#')) === 3);
});

afterEach(() => pool.close());

after(async () => {
  pool.close();
  await nodes?.N.close();
  await Promise.allSettled([nodes?.A.stop(), nodes?.B.stop()]);
  await redis?.close();
});

describe('cluster: sharded adapter', () => {
  test('broadcasts to all and to a socket id cross every pair, binary included', async () => {
    const all = await clients('A1', 'B1', 'N1');
    const bytes = Buffer.from([9, 8, 7]);
    for (const from of ['A1', 'B1', 'N1'])
      await cmd(all[from].socket, 'broadcast', { event: 'x' }, from, bytes);
    for (const name of Object.keys(all)) {
      const got = [];
      for (let i = 0; i < 3; i++) got.push(normalize(await all[name].rec.next('x')));
      assert.deepEqual(got.map((g) => g[0]).sort(), ['A1', 'B1', 'N1'], name);
      for (const g of got) assert.deepEqual(g[1], bytes);
    }
    await cmd(all.N1.socket, 'broadcast', { event: 'dm', args: ['to-A1'], rooms: [all.A1.hello.id] });
    await cmd(all.A1.socket, 'broadcast', { event: 'dm', args: ['to-N1'], rooms: [all.N1.hello.id] });
    assert.deepEqual(await all.A1.rec.next('dm'), ['to-A1']);
    assert.deepEqual(await all.N1.rec.next('dm'), ['to-N1']);
  });

  test('a room broadcast reaches members only; a node without members receives nothing', async () => {
    const all = await clients('A1', 'B1', 'N1');
    await cmd(all.A1.socket, 'join', ['lobby']);
    await waitFor('A on the lobby channel', async () => (await shardNumsub('socket.io#/#lobby#')) === 1);
    const before = await received(nodes.B);
    for (let i = 0; i < 10; i++)
      await cmd(all.N1.socket, 'broadcast', { event: 'lobby', args: [i], rooms: ['lobby'] });
    for (let i = 0; i < 10; i++) assert.deepEqual(await all.A1.rec.next('lobby'), [i]);
    // A marker on the main channel from the same publisher: B has it after
    // anything N published before.
    await cmd(all.N1.socket, 'broadcast', { event: 'marker', args: [1] });
    await all.B1.rec.next('marker');
    assert.equal(await received(nodes.B), before + 1, 'B received only the marker');
    assert.equal(all.B1.rec.count('lobby'), 0);
    assert.equal(all.N1.rec.count('lobby'), 0);
    // The last member leaves: A unsubscribes.
    await cmd(all.A1.socket, 'leave', ['lobby']);
    await waitFor('lobby channel unsubscribed', async () => (await shardNumsub('socket.io#/#lobby#')) === 0);
  });

  test('fetchSockets, serverSideEmit and broadcast with acks across the nodes', async () => {
    const all = await clients('A1', 'B1', 'N1');
    for (const [name, c] of Object.entries(all)) c.socket.on('ask', (v, cb) => cb(`${name}:${v}`));
    const ids = ['A1', 'B1', 'N1'].map((n) => all[n].hello.id).sort();
    for (const from of ['A1', 'N1']) {
      const got = await cmd(all[from].socket, 'fetch-sockets', {});
      assert.equal(got.complete, true);
      assert.deepEqual(got.sockets.map((s) => s.id).sort(), ids, from);
      await cmd(all[from].socket, 'server-side-emit', { event: 'ping', ack: true }, from);
      const [complete, answers] = await all[from].rec.next('server-side-result', 8000);
      assert.equal(complete, true, from);
      assert.deepEqual(answers, [{ pong: from }, { pong: from }]);
      await cmd(all[from].socket, 'broadcast-with-ack', { event: 'ask', timeoutMs: 5000 }, from);
      const [timedOut, ...res] = await all[from].rec.next('broadcast-ack-result', 8000);
      assert.equal(timedOut, false, from);
      assert.deepEqual(res.map((a) => a[0]).sort(), ['A1', 'B1', 'N1'].map((n) => `${n}:${from}`));
    }
  });
});
