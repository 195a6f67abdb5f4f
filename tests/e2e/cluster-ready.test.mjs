// A cluster node is ready (its "listening on" line, systemd READY=1) only
// once Redis confirmed its route key (`socket.io#route#<sid prefix>`): a
// polling request another node forwards to it before that would be
// "Session ID unknown". Redis holds the node's writes (CLIENT PAUSE WRITE)
// while it starts:
// - the key is in Redis when the ready line appears, not before the pause ends;
// - held past cluster.nodeTtl: a warning names the key, the node stays not
//   ready, and becomes ready when Redis takes the write;
// - workers: the supervisor's "workers: N ready" comes after every worker's key.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startRedis } from './lib/redis.mjs';
import { startServer } from './lib/server.mjs';

let redis;
let control;

const pause = (ms) => control.sendCommand(['CLIENT', 'PAUSE', String(ms), 'WRITE']);
const routeKey = (srv) => `socket.io#route#${/sid prefix (\S+)\)/.exec(srv.logs())[1]}`;

before(async () => {
  redis = await startRedis();
  control = await redis.control();
});

after(async () => {
  await redis?.close();
});

describe('cluster: ready once the route key is in Redis', () => {
  test('the key exists when the ready line appears', async () => {
    const PAUSE_MS = 1500;
    await pause(PAUSE_MS);
    const t0 = Date.now();
    const srv = await startServer({ testHandler: undefined, cluster: { redis: redis.url } });
    try {
      const waited = Date.now() - t0;
      assert.equal(await control.exists(routeKey(srv)), 1, `route key missing at ready (${waited} ms)\n${srv.logs()}`);
      assert.ok(waited >= PAUSE_MS - 100, `ready after ${waited} ms, before Redis took writes again`);
      assert.doesNotMatch(srv.logs(), /has not confirmed this node's route key/);
    } finally {
      await control.sendCommand(['CLIENT', 'UNPAUSE']);
      assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    }
  });

  test('not confirmed within nodeTtl: a warning, still not ready, ready when Redis takes it', async () => {
    const TTL_MS = 1000;
    await pause(TTL_MS * 3);
    const srv = await startServer({ testHandler: undefined, cluster: { redis: redis.url, heartbeatInterval: 300, nodeTtl: TTL_MS } });
    try {
      const logs = srv.logs();
      const warned = logs.search(/Redis has not confirmed this node's route key \(socket\.io#route#\S+\) after 1000 ms/);
      const confirmed = logs.indexOf("Redis confirmed this node's route key");
      const ready = logs.search(/listening on http/);
      assert.ok(warned >= 0 && warned < confirmed && confirmed < ready, logs);
      assert.equal(await control.exists(routeKey(srv)), 1);
    } finally {
      await control.sendCommand(['CLIENT', 'UNPAUSE']);
      assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    }
  });

  test('workers: the supervisor is ready after every worker\'s key', async () => {
    await pause(1500);
    const srv = await startServer({ testHandler: undefined, workers: 2, cluster: { redis: redis.url } });
    try {
      await srv.waitForLog(/workers: 2 ready, listening on/, 15000);
      const keys = await control.keys('socket.io#route#*');
      const tags = [...srv.logs().matchAll(/sid prefix (\S+)\)/g)].map((m) => `socket.io#route#${m[1]}`);
      assert.equal(tags.length, 2, srv.logs());
      for (const k of tags) assert.ok(keys.includes(k), `${k} in Redis when the supervisor is ready (${keys})`);
    } finally {
      await control.sendCommand(['CLIENT', 'UNPAUSE']);
      assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    }
  });
});
