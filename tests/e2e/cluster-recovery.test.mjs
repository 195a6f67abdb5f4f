// Nothing lost when a node dies, stops or is upgraded (issue 15, items 4-6):
// 200 clients on one daheim-live node (through a proxy standing in for the
// load balancer), numbered events at a steady rate from the streams emitter
// and from POST /api/v1/push on the other node. The clients' node is
// SIGKILLed (or SIGTERMed, or both nodes are restarted one after the other)
// mid-stream; the clients come back through the proxy to another node, or to
// their node started again: each must have every number exactly once, in
// order, and say recovered.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { scrape } from './lib/metrics.mjs';
import { CuttableProxy } from './lib/proxy.mjs';
import { startRedis } from './lib/redis.mjs';
import { io, WS } from './lib/sio.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { StreamsEmitter } from './lib/streams-emitter.mjs';
import { postPush, waitFor } from './lib/util.mjs';

const CLIENTS = 200;
const dir = mkdtempSync(path.join(tmpdir(), 'daheim-cluster-recovery-'));
const bearer = crypto.randomBytes(32).toString('base64url');
writeFileSync(path.join(dir, 'push.secret'), bearer);

let redis;
let control;
let emitter;

function nodeConfig() {
  return {
    testHandler: 'socketio-e2e',
    drainTime: 5000,
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
    plugins: [{ path: path.join(pluginsDir, 'push', 'push.so'),
      config: { bearerSecretFile: path.join(dir, 'push.secret') } }],
    // A push answers once every node counted its sockets; a node killed with
    // that request in flight makes it wait requestsTimeout.
    cluster: { redis: redis.url, adapter: 'streams', reconnectMin: 50, reconnectMax: 500,
      requestsTimeout: 500 },
  };
}

before(async () => {
  redis = await startRedis();
  control = await redis.control();
  emitter = new StreamsEmitter(control);
});

after(async () => {
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Numbered events: `e` from the emitter every 10 ms, `p` from a push every
// 25 ms to `pushTo()` (only the ones answered 202 count: a push to a node
// that is going away may be refused, never half-taken).
function startSources(pushTo) {
  // p: pushes answered 202; lost: pushes whose answer never came (they may
  // or may not have been delivered).
  const s = { e: 0, p: [], lost: new Set(), stopped: false, pending: new Set() };
  s.eTimer = setInterval(() => {
    const n = ++s.e;
    const done = emitter.emit('e', [n]).catch(() => {
      throw new Error('the emitter failed');
    });
    s.pending.add(done);
    done.finally(() => s.pending.delete(done));
  }, 10);
  let next = 0;
  let inFlight = false;
  // One push at a time, as the API server's one keep-alive connection does:
  // concurrent requests could reach the node in another order.
  s.pTimer = setInterval(() => {
    if (inFlight) return;
    inFlight = true;
    const n = ++next;
    const done = postPush(pushTo(), bearer, { to: { all: true }, event: 'p', data: n }).then((r) => {
      if (r.status === 202) s.p.push(n);
    }, () => s.lost.add(n)).finally(() => (inFlight = false));
    s.pending.add(done);
    done.finally(() => s.pending.delete(done));
  }, 25);
  s.stop = async () => {
    clearInterval(s.eTimer);
    clearInterval(s.pTimer);
    await Promise.all([...s.pending]);
    s.p.sort((a, b) => a - b);
  };
  return s;
}

async function connectClients(url) {
  const all = [];
  for (let i = 0; i < CLIENTS; i += 25) {
    const batch = [];
    for (let k = i; k < Math.min(CLIENTS, i + 25); ++k) {
      const socket = io(url, { forceNew: true, transports: WS, reconnectionDelay: 100,
        reconnectionDelayMax: 300, autoConnect: false });
      const c = { socket, e: [], p: [], connects: 0, recovered: 0 };
      socket.on('e', (n) => c.e.push(n));
      socket.on('p', (n) => c.p.push(n));
      socket.on('connect', () => {
        c.connects += 1;
        if (socket.recovered) c.recovered += 1;
      });
      batch.push(new Promise((resolve) => socket.once('connect', resolve)));
      socket.connect();
      all.push(c);
    }
    await Promise.all(batch);
  }
  return all;
}

// Closes every client for good (no reconnection left pending).
function closeClients(clients) {
  for (const c of clients) {
    c.socket.io.reconnection(false);
    c.socket.disconnect();
    c.socket.io.engine?.close();
  }
}

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

// Moves every client from the proxy's node: `stop` ends it, then the proxy
// leads to `to()`'s port.
async function move(proxy, clients, stop, to) {
  const before = clients.map((c) => c.connects);
  proxy.blocked = true;
  await stop();
  proxy.cut();
  const target = await to();
  proxy.retarget(target.port);
  proxy.blocked = false;
  await waitFor('every client back', () => clients.every((c, i) => c.connects > before[i]), 30000);
  return target;
}

function check(clients, sources, moves) {
  const eAll = range(sources.e);
  let bad = 0;
  for (const c of clients) {
    if (c.recovered !== moves) bad += 1;
    assert.deepEqual(c.e, eAll, 'every emitter number once, in order');
    const accepted = c.p.filter((n) => !sources.lost.has(n));
    assert.deepEqual(accepted, sources.p, 'every accepted push once, in order');
    assert.ok(c.p.every((n, i) => i === 0 || n > c.p[i - 1]), 'pushes in order, none twice');
  }
  assert.equal(bad, 0, `${bad} clients came back without their session`);
  assert.ok(sources.p.length > 20, `pushes were accepted (${sources.p.length})`);
}

async function finish(clients, sources) {
  const accepted = sources.p.length;
  await waitFor('pushes accepted after the move', () => sources.p.length >= accepted + 20);
  await sources.stop();
  const lastE = sources.e;
  const lastP = sources.p.at(-1);
  await waitFor('the last numbers everywhere',
    () => clients.every((c) => c.e.at(-1) === lastE && c.p.at(-1) === lastP), 15000);
}

describe('cluster: recovery across node death and restarts', () => {
  // The clients come back to B, or to A started again (a new process on its
  // old sessions, as after `systemctl restart` or a crash and Restart=).
  for (const signal of ['SIGKILL', 'SIGTERM']) {
    for (const to of ['another node', 'the restarted node']) {
      test(`${signal} of the clients' node: ${to} restores every session`, async () => {
        const [A, B] = await Promise.all([startServer(nodeConfig()), startServer(nodeConfig())]);
        let A2;
        const proxy = new CuttableProxy(A.port);
        const clients = [];
        try {
          clients.push(...(await connectClients(await proxy.listen())));
          const sources = startSources(() => B.url);
          await waitFor('a few numbers', () => clients.every((c) => c.e.length > 20 && c.p.length > 3));
          const target = to === 'another node' ? async () => B : async () => (A2 = await startServer(nodeConfig()));
          const node = await move(proxy, clients, () => A.stop(signal), target);
          // Every restore took its missed events from the node's window of
          // the stream (B read it all along; A started again filled it from
          // the stream), none read the stream from Redis.
          const m = await scrape(node.url);
          assert.equal(m.value('daheim_recovery_window_misses_total'), 0);
          assert.equal(m.value('daheim_recovery_window_hits_total'), CLIENTS);
          await new Promise((r) => setTimeout(r, 300));
          await finish(clients, sources);
          check(clients, sources, 1);
        } finally {
          closeClients(clients);
          proxy.close();
          await Promise.allSettled([A.stop('SIGKILL'), B.stop(), A2?.stop()]);
        }
      });
    }
  }

  test('a rolling restart (SIGTERM, start again) of both nodes loses nothing', async () => {
    let [A, B] = await Promise.all([startServer(nodeConfig()), startServer(nodeConfig())]);
    const proxy = new CuttableProxy(A.port);
    const clients = [];
    let pushTo = B;
    try {
      clients.push(...(await connectClients(await proxy.listen())));
      const sources = startSources(() => pushTo.url);
      await waitFor('a few numbers', () => clients.every((c) => c.e.length > 10));
      // A goes (its clients to B) and comes back as A'.
      await move(proxy, clients, () => A.stop('SIGTERM'), async () => B);
      A = await startServer(nodeConfig());
      pushTo = A;
      await new Promise((r) => setTimeout(r, 200));
      // B goes (its clients to A') and comes back.
      await move(proxy, clients, () => B.stop('SIGTERM'), async () => A);
      B = await startServer(nodeConfig());
      pushTo = B;
      await new Promise((r) => setTimeout(r, 200));
      await finish(clients, sources);
      check(clients, sources, 2);
    } finally {
      closeClients(clients);
      proxy.close();
      await Promise.allSettled([A.stop(), B.stop()]);
    }
  });
});
