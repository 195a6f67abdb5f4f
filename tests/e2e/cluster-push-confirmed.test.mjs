// POST /api/v1/push with the pubsub and the sharded adapter answers 202 only
// once Redis answered the PUBLISH / SPUBLISH, as the streams adapter does
// with its XADD (cluster-push-logged.test.mjs). Two nodes, the client on B,
// the push to A:
// - 202: the event reaches the client on the other node;
// - Redis refuses the PUBLISH (an ACL takes the command away): 503
//   "unavailable", and the other node does not get the event;
// - Redis holds writes longer than requestsTimeout (CLIENT PAUSE WRITE):
//   503 "timeout", not a 202 with an incomplete count;
// - Redis unreachable: 503 "unavailable" at once.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startRedis } from './lib/redis.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { postPush } from './lib/util.mjs';

const REQUESTS_TIMEOUT_MS = 1000;
const bearer = crypto.randomBytes(32).toString('base64url');

for (const adapter of ['pubsub', 'sharded']) {
  const command = adapter === 'pubsub' ? 'publish' : 'spublish';

  describe(`cluster (${adapter}): a push is answered after Redis took it`, () => {
    let redis;
    let control;
    let A;
    let B;
    let client;
    let rec;

    const push = (data) => postPush(A.url, bearer, { to: { all: true }, event: 'p', data });

    before(async () => {
      redis = await startRedis();
      control = await redis.control();
      const config = {
        testHandler: undefined,
        plugins: [{ path: path.join(pluginsDir, 'push', 'push.so'), config: { devBearerSecret: bearer } }],
        cluster: { redis: redis.url, adapter, requestsTimeout: REQUESTS_TIMEOUT_MS },
      };
      [A, B] = await Promise.all([startServer(config), startServer(config)]);
      client = io(B.url, { forceNew: true, transports: WS, reconnection: false });
      rec = new Recorder(client);
      await connected(client);
    });

    after(async () => {
      client?.disconnect();
      await Promise.allSettled([A?.stop(), B?.stop()]);
      await redis?.close();
    });

    test('202: the event reaches the other node', async () => {
      for (let n = 1; n <= 3; ++n) {
        const r = await push(`first-${n}`);
        assert.equal(r.status, 202, r.body);
        assert.equal(JSON.parse(r.body).complete, true);
        assert.equal((await rec.next('p'))[0], `first-${n}`);
      }
    });

    test(`Redis refuses the ${command.toUpperCase()}: 503 unavailable, not delivered`, async () => {
      await control.sendCommand(['ACL', 'SETUSER', 'default', `-${command}`]);
      try {
        const r = await push('refused');
        assert.equal(r.status, 503, r.body);
        const body = JSON.parse(r.body);
        assert.equal(body.error, 'unavailable');
        assert.match(body.message, /Redis did not take the event/);
      } finally {
        await control.sendCommand(['ACL', 'SETUSER', 'default', `+${command}`]);
      }
      const r = await push('after-refused');
      assert.equal(r.status, 202, r.body);
      // In order: the refused one never arrives.
      assert.equal((await rec.next('p'))[0], 'after-refused');
    });

    test(`Redis holds the ${command.toUpperCase()} past requestsTimeout: 503 timeout`, async () => {
      await control.sendCommand(['CLIENT', 'PAUSE', String(REQUESTS_TIMEOUT_MS * 4), 'WRITE']);
      const t0 = Date.now();
      const r = await push('held');
      const ms = Date.now() - t0;
      await control.sendCommand(['CLIENT', 'UNPAUSE']);
      assert.equal(r.status, 503, r.body);
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'timeout');
      assert.match(body.message, /may still be delivered/);
      assert.ok(ms >= REQUESTS_TIMEOUT_MS - 50, `answered after ${ms} ms`);
      // Redis took it after all: delivered late, as the message says.
      assert.equal((await rec.next('p'))[0], 'held');
      const again = await push('after-held');
      assert.equal(again.status, 202, again.body);
      assert.equal((await rec.next('p'))[0], 'after-held');
    });

    test('Redis unreachable: 503 unavailable', async () => {
      await redis.stop();
      try {
        const r = await push('no-redis');
        assert.equal(r.status, 503, r.body);
        assert.equal(JSON.parse(r.body).error, 'unavailable');
      } finally {
        await redis.start();
      }
    });
  });
}
