// Several nodes as one server over Redis: two daheim-live nodes (A, B), one
// Node.js socket.io node with @socket.io/redis-adapter (N) and the API
// server's @socket.io/redis-emitter (E) on one redis-server started here.
// Every broadcast crosses every pair of nodes both ways, exactly once, with
// rooms and except honoured; then Redis is killed and restarted mid-test.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import { Emitter } from '@socket.io/redis-emitter';

import { scrape } from './lib/metrics.mjs';
import { startNodePeer } from './lib/node-peer.mjs';
import { startRedis } from './lib/redis.mjs';
import { Pool, cmd, disconnected, normalize, startSioServer, WS } from './lib/sio.mjs';
import { waitFor, withTimeout } from './lib/util.mjs';

const pool = new Pool();
let redis;
let nodes; // { A, B, N } -> { url, kind }
let emitter;
let control; // a plain Redis client for PUBSUB questions
let fenceNo = 0;

async function numsub(channel) {
  const r = await control.sendCommand(['PUBSUB', 'NUMSUB', channel]);
  return Number(r[1]);
}

async function health(url) {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: await res.json() };
}

// Connects one client to each of `names` ("A1" = a client on node A).
async function clients(...names) {
  const out = {};
  for (const name of names) {
    const node = nodes[name[0]];
    out[name] = await pool.connect(node.url, '/', { transports: WS });
    out[name].name = name;
  }
  return out;
}

// Every broadcast published before this has been delivered once this
// returns: each node sends a fence to all through Redis, and Redis hands a
// subscriber messages in the order it took them.
async function settle(all) {
  // The emitter's publishes are not awaited: a PING on its connection answers
  // once Redis has run them, so they reach every node before the fences.
  await emitter.client.ping();
  const id = ++fenceNo;
  const senders = Object.values(all).filter((c, i, arr) =>
    arr.findIndex((x) => x.name[0] === c.name[0]) === i);
  for (const s of senders)
    await cmd(s.socket, 'broadcast', { event: 'fence', args: [id, s.name[0]] });
  for (const c of Object.values(all)) {
    for (let i = 0; i < senders.length; i++) {
      const [got] = await c.rec.next('fence', 10000);
      assert.equal(got, id, `${c.name}: fence ${id}`);
    }
  }
}

// Who received `event`, with what arguments (each consumed).
function received(all, event) {
  const out = {};
  for (const c of Object.values(all)) {
    const got = [];
    for (;;) {
      const i = c.rec.events.findIndex((e) => e.event === event);
      if (i < 0) break;
      got.push(normalize(c.rec.events.splice(i, 1)[0].args));
    }
    if (got.length) out[c.name] = got;
  }
  return out;
}

async function join(c, rooms) {
  return cmd(c.socket, 'join', rooms);
}

before(async () => {
  redis = await startRedis();
  const cluster = { cluster: { redis: redis.url, reconnectMin: 50, reconnectMax: 500 } };
  const [A, B] = await Promise.all([startSioServer({}, cluster), startSioServer({}, cluster)]);
  const N = await startNodePeer(redis.url);
  nodes = { A: { ...A, kind: 'daheim' }, B: { ...B, kind: 'daheim' }, N: { ...N, kind: 'node' } };
  control = await redis.control();
  const emitterClient = await redis.control();
  emitter = new Emitter(emitterClient);
  emitter.client = emitterClient;
  // Ready: all three nodes subscribed to the request channel (serverCount).
  await waitFor('3 nodes on Redis', async () => (await numsub('socket.io-request#/#')) === 3);
});

// Every test's clients go, also when it failed.
afterEach(() => pool.close());

after(async () => {
  pool.close();
  await nodes?.N.close();
  await Promise.allSettled([nodes?.A.stop(), nodes?.B.stop()]);
  await redis?.close();
});

describe('cluster: classic pub/sub adapter', () => {
  test('a broadcast to all from any node or the emitter reaches every client exactly once', async () => {
    const all = await clients('A1', 'A2', 'B1', 'N1');
    for (const from of ['A1', 'B1', 'N1']) {
      await cmd(all[from].socket, 'broadcast', { event: 'x', args: [from, { n: 1 }] });
    }
    emitter.emit('x', 'E', { n: 1 });
    await settle(all);
    const got = received(all, 'x');
    const expected = [['A1', { n: 1 }], ['B1', { n: 1 }], ['E', { n: 1 }], ['N1', { n: 1 }]];
    for (const name of Object.keys(all)) {
      const sorted = (got[name] ?? []).sort((p, q) => p[0].localeCompare(q[0]));
      assert.deepEqual(sorted, expected, `${name} received each broadcast once`);
    }
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('rooms and except are honoured on every node, from every node', async () => {
    const all = await clients('A1', 'A2', 'B1', 'B2', 'N1', 'N2');
    for (const n of ['A1', 'B1', 'N1']) await join(all[n], ['red']);
    for (const n of ['A2', 'B2']) await join(all[n], ['blue']);
    await join(all.B1, ['vip']);
    for (const from of ['A2', 'B2', 'N2']) {
      await cmd(all[from].socket, 'broadcast', [
        { event: 'red', args: [from], rooms: ['red'], except: ['vip'] },
        { event: 'both', args: [from], rooms: ['red', 'blue'] },
      ]);
    }
    emitter.to('red').except('vip').emit('red', 'E');
    emitter.to(['red', 'blue']).emit('both', 'E');
    await settle(all);
    const red = received(all, 'red');
    const both = received(all, 'both');
    const senders = ['A2', 'B2', 'E', 'N2'];
    assert.deepEqual(Object.keys(red).sort(), ['A1', 'N1']);
    for (const n of ['A1', 'N1']) assert.deepEqual(red[n].map((a) => a[0]).sort(), senders);
    assert.deepEqual(Object.keys(both).sort(), ['A1', 'A2', 'B1', 'B2', 'N1']);
    for (const n of Object.keys(both))
      assert.deepEqual(both[n].map((a) => a[0]).sort(), senders, n);
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('to a socket id on another node, and binary arguments', async () => {
    const all = await clients('A1', 'B1', 'N1');
    const bytes = Buffer.from([1, 2, 3, 250]);
    await cmd(all.A1.socket, 'broadcast', { event: 'dm', rooms: [all.B1.hello.id] }, 'from-A', bytes);
    await cmd(all.N1.socket, 'broadcast', { event: 'dm', rooms: [all.A1.hello.id] }, 'from-N', bytes);
    await cmd(all.B1.socket, 'broadcast', { event: 'dm', rooms: [all.N1.hello.id] }, 'from-B', bytes);
    emitter.to(all.A1.hello.id).emit('dm', 'from-E', bytes);
    await settle(all);
    const dm = received(all, 'dm');
    assert.deepEqual(dm.B1, [['from-A', bytes]]);
    assert.deepEqual(dm.N1, [['from-B', bytes]]);
    assert.deepEqual(dm.A1.sort((p, q) => p[0].localeCompare(q[0])), [['from-E', bytes], ['from-N', bytes]]);
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('volatile broadcasts cross too, never twice', async () => {
    // A volatile packet may be dropped (a client with something queued, a
    // Node.js transport busy writing): send until each client has one, each
    // numbered, and check that none arrived twice.
    const all = await clients('A1', 'B1', 'N1');
    const seen = { A: new Map(), N: new Map(), E: new Map() };
    const send = {
      A: (i) => cmd(all.A1.socket, 'broadcast', { event: 'v', args: ['A', i], volatile: true }),
      N: (i) => cmd(all.N1.socket, 'broadcast', { event: 'v', args: ['N', i], volatile: true }),
      E: async (i) => emitter.volatile.emit('v', 'E', i),
    };
    for (const from of Object.keys(send)) {
      for (let i = 0; i < 30; i++) {
        await send[from](i);
        await settle(all);
        for (const [name, list] of Object.entries(received(all, 'v'))) {
          for (const [sender, n] of list) {
            const key = `${name}:${n}`;
            assert.ok(!seen[sender].has(key), `${key} from ${sender} twice`);
            seen[sender].set(key, true);
          }
        }
        const reached = new Set([...seen[from].keys()].map((k) => k.split(':')[0]));
        if (reached.size === 3) break;
      }
      const reached = new Set([...seen[from].keys()].map((k) => k.split(':')[0]));
      assert.deepEqual([...reached].sort(), ['A1', 'B1', 'N1'], `volatile from ${from}`);
    }
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('the emitter and the Node node join, leave and disconnect our sockets', async () => {
    const all = await clients('A1', 'B1', 'N1', 'A2');
    for (const n of ['A1', 'B1', 'N1']) await join(all[n], ['team']);
    emitter.in('team').socketsJoin('green');
    await settle(all);
    await cmd(all.N1.socket, 'sockets-join', { rooms: [all.A2.hello.id] }, ['green']);
    await settle(all);
    await cmd(all.N1.socket, 'broadcast', { event: 'g', args: [1], rooms: ['green'] });
    await settle(all);
    assert.deepEqual(Object.keys(received(all, 'g')).sort(), ['A1', 'A2', 'B1', 'N1']);
    assert.deepEqual((await cmd(all.A1.socket, 'rooms')).sort(), [all.A1.hello.id, 'green', 'team'].sort());
    emitter.in('green').socketsLeave('green');
    await settle(all);
    assert.deepEqual((await cmd(all.B1.socket, 'rooms')).sort(), [all.B1.hello.id, 'team'].sort());
    const gone = [disconnected(all.A2.socket), disconnected(all.B1.socket)];
    emitter.in(all.A2.hello.id).disconnectSockets();
    await cmd(all.N1.socket, 'disconnect-sockets', { rooms: [all.B1.hello.id] }, false);
    assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
    for (const c of Object.values(all)) c.socket.disconnect();
  });
});

describe('cluster: requests between nodes', () => {
  test('fetchSockets and allRooms from any node see every node', async () => {
    const all = await clients('A1', 'B1', 'N1');
    await join(all.A1, ['ra']);
    await join(all.B1, ['rb']);
    await join(all.N1, ['rn']);
    const ids = ['A1', 'B1', 'N1'].map((n) => all[n].hello.id).sort();
    for (const from of ['A1', 'B1', 'N1']) {
      const got = await cmd(all[from].socket, 'fetch-sockets', {});
      assert.equal(got.complete, true, from);
      assert.deepEqual(got.sockets.map((x) => x.id).sort(), ids, from);
      const b1 = got.sockets.find((x) => x.id === all.B1.hello.id);
      assert.deepEqual(b1.rooms.sort(), [all.B1.hello.id, 'rb'].sort());
      const inRb = await cmd(all[from].socket, 'fetch-sockets', { rooms: ['rb', 'rn'] });
      assert.deepEqual(inRb.sockets.map((x) => x.id).sort(), [all.B1.hello.id, all.N1.hello.id].sort());
      const rooms = await cmd(all[from].socket, 'all-rooms');
      assert.equal(rooms.complete, true);
      for (const r of ['ra', 'rb', 'rn', ...ids]) assert.ok(rooms.rooms.includes(r), `${from}: ${r}`);
    }
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('serverSideEmit reaches the other nodes, acks come back from each', async () => {
    const all = await clients('A1', 'B1', 'N1');
    for (const from of ['A1', 'B1', 'N1']) {
      await cmd(all[from].socket, 'server-side-emit', { event: 'note' }, from, 2);
      await settle(all);
      const seen = received(all, 'server-side');
      const others = ['A1', 'B1', 'N1'].filter((n) => n !== from);
      assert.deepEqual(Object.keys(seen).sort(), others, `note from ${from}`);
      for (const n of others) assert.deepEqual(seen[n], [['note', from, 2]]);
      await cmd(all[from].socket, 'server-side-emit', { event: 'ping', ack: true }, from);
      const [complete, answers] = await all[from].rec.next('server-side-result', 8000);
      assert.equal(complete, true, `ping from ${from}`);
      assert.deepEqual(answers, [{ pong: from }, { pong: from }]);
      await settle(all);
      received(all, 'server-side');
    }
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('a broadcast with ack collects every client on every node', async () => {
    const all = await clients('A1', 'A2', 'B1', 'N1');
    for (const [name, c] of Object.entries(all)) c.socket.on('ask', (v, cb) => cb(`${name}:${v}`));
    for (const from of ['A1', 'B1', 'N1']) {
      await cmd(all[from].socket, 'broadcast-with-ack', { event: 'ask', timeoutMs: 5000 }, from);
      // timedOut, then each client's answer arguments as an array.
      const [timedOut, ...answers] = await all[from].rec.next('broadcast-ack-result', 8000);
      assert.equal(timedOut, false, `from ${from}`);
      const flat = answers.map((a) => a[0]).sort();
      assert.deepEqual(flat, ['A1', 'A2', 'B1', 'N1'].map((n) => `${n}:${from}`), `from ${from}`);
    }
    for (const c of Object.values(all)) c.socket.disconnect();
  });

  test('socketsJoin and disconnectSockets from a daheim node act on every node', async () => {
    const all = await clients('A1', 'B1', 'N1');
    await cmd(all.A1.socket, 'sockets-join', {}, ['everyone']);
    await settle(all);
    for (const n of ['A1', 'B1']) assert.ok((await cmd(all[n].socket, 'rooms')).includes('everyone'), n);
    const n1 = await cmd(all.B1.socket, 'fetch-sockets', { rooms: ['everyone'] });
    assert.equal(n1.sockets.length, 3);
    await cmd(all.B1.socket, 'sockets-leave', { except: [all.A1.hello.id] }, ['everyone']);
    await settle(all);
    const left = await cmd(all.A1.socket, 'fetch-sockets', { rooms: ['everyone'] });
    assert.deepEqual(left.sockets.map((x) => x.id), [all.A1.hello.id]);
    const gone = disconnected(all.N1.socket);
    await cmd(all.A1.socket, 'disconnect-sockets', { rooms: [all.N1.hello.id] }, true);
    assert.equal(await gone, 'io server disconnect'); // the DISCONNECT packet goes first
    for (const c of Object.values(all)) c.socket.disconnect();
  });
});

describe('cluster: Redis trouble', () => {
  test('Redis killed: local delivery goes on, /healthz says disconnected; restarted: the cluster resumes', async () => {
    const all = await clients('A1', 'A2', 'B1', 'N1');
    await redis.stop();
    await waitFor('A sees Redis gone', async () => (await health(nodes.A.url)).body.cluster === 'disconnected');
    const h = await health(nodes.A.url);
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'degraded');
    await cmd(all.A1.socket, 'broadcast', { event: 'local', args: ['still'] });
    assert.deepEqual(await all.A2.rec.next('local'), ['still']);
    await redis.start();
    await waitFor('A and B back', async () =>
      (await health(nodes.A.url)).body.cluster === 'connected' &&
      (await health(nodes.B.url)).body.cluster === 'connected');
    await waitFor('3 nodes subscribed again', async () => (await numsub('socket.io-request#/#')) === 3);
    // The subscriber may come back after the command connection: retry until
    // a broadcast from B crosses to A (what is published meanwhile is lost, as
    // with the reference).
    await waitFor('B -> A crosses again', async () => {
      await cmd(all.B1.socket, 'broadcast', { event: 'back', args: ['B'], rooms: [all.A1.hello.id] });
      try {
        await all.A1.rec.next('back', 300);
        return true;
      } catch {
        return false;
      }
    });
    await cmd(all.A1.socket, 'broadcast', { event: 'again', args: ['A'] });
    assert.deepEqual(await all.N1.rec.next('again'), ['A']);
    assert.deepEqual(await all.B1.rec.next('again'), ['A']);
    const m = await scrape(nodes.A.url);
    assert.ok(m.value('daheim_cluster_reconnects_total') >= 1);
    assert.equal(m.value('daheim_cluster_connected'), 1);
    for (const c of Object.values(all)) c.socket.disconnect();
  });
});
