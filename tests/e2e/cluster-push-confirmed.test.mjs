// POST /api/v1/push in a cluster answers 202 only once Redis took the event:
// with the streams adapter its XADD (issue 15: a node killed between the
// answer and the XADD must not lose a push the API saw accepted), with the
// pubsub and sharded adapters its PUBLISH / SPUBLISH. Two nodes, the push to
// A; the client on A with streams (the node's own delivery waits for the
// log too), on B with pubsub and sharded (the event crosses Redis):
// - 202: the event reaches the client (with streams it is in the stream
//   when the answer arrives);
// - Redis refuses the command (streams: maxmemory reached, PUBLISH still
//   works, so the count over the nodes completes; pubsub and sharded: an
//   ACL takes the command away): 503 "unavailable", and the client does not
//   get the event (the API server retries);
// - Redis holds writes longer than requestsTimeout (CLIENT PAUSE WRITE):
//   503 "timeout", not a 202 with an incomplete count;
// - Redis unreachable: 503 "unavailable" at once.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startRedis } from './lib/redis.mjs';
import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { pluginsDir, startServer, tempFiles } from './lib/server.mjs';
import { postPush } from './lib/util.mjs';

const REQUESTS_TIMEOUT_MS = 1000;
const bearer = crypto.randomBytes(32).toString('base64url');
const { dir, file } = tempFiles('daheim-push-confirmed-');
const secretFile = file('push.secret', bearer);
after(() => rmSync(dir, { recursive: true, force: true }));

// pubsub and sharded: an ACL takes their PUBLISH / SPUBLISH away.
function published(command) {
  const acl = (control, sign) => control.sendCommand(['ACL', 'SETUSER', 'default', sign + command.toLowerCase()]);
  return {
    config: { testHandler: undefined },
    clientOn: 'B',
    command,
    refuse: (control) => acl(control, '-'),
    allow: (control) => acl(control, '+'),
  };
}

// What differs between the adapters: the config beside the cluster's, the
// node the client is on, the Redis command that takes the event and how
// the test makes Redis refuse it.
const ADAPTERS = {
  streams: {
    config: {
      testHandler: 'socketio-e2e',
      socketio: { connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
    },
    clientOn: 'A',
    command: 'XADD',
    refuse: (control) => control.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' }),
    allow: (control) => control.configSet({ maxmemory: '0' }),
  },
  pubsub: published('PUBLISH'),
  sharded: published('SPUBLISH'),
};

for (const [adapter, mode] of Object.entries(ADAPTERS)) {
  describe(`cluster (${adapter}): a push is answered after Redis took it`, () => {
    let redis;
    let control;
    const nodes = {};
    let client;
    let rec;

    const push = (data) => postPush(nodes.A.url, bearer, { to: { all: true }, event: 'p', data });

    // The entries of every stream in Redis, as text.
    async function streamText() {
      let text = '';
      for (const key of await control.keys('*')) {
        if ((await control.type(key)) !== 'stream') continue;
        for (const e of await control.xRange(key, '-', '+')) text += JSON.stringify(e.message);
      }
      return text;
    }

    before(async () => {
      redis = await startRedis();
      control = await redis.control();
      const config = {
        ...mode.config,
        plugins: [{ path: path.join(pluginsDir, 'push', 'push.so'), config: { bearerSecretFile: secretFile } }],
        cluster: { redis: redis.url, adapter, requestsTimeout: REQUESTS_TIMEOUT_MS },
      };
      [nodes.A, nodes.B] = await Promise.all([startServer(config), startServer(config)]);
      client = io(nodes[mode.clientOn].url, { forceNew: true, transports: WS, reconnection: false });
      rec = new Recorder(client);
      await connected(client);
    });

    after(async () => {
      client?.disconnect();
      await Promise.allSettled([nodes.A?.stop(), nodes.B?.stop()]);
      await redis?.close();
    });

    test(`202: the event reaches the client on ${mode.clientOn}`, async () => {
      for (let n = 1; n <= 5; ++n) {
        const r = await push(`first-${n}`);
        assert.equal(r.status, 202, r.body);
        assert.equal(JSON.parse(r.body).complete, true);
        if (adapter === 'streams') assert.ok((await streamText()).includes(`first-${n}`), `push ${n} is in the stream`);
        assert.equal((await rec.next('p'))[0], `first-${n}`);
      }
    });

    test(`Redis refuses the ${mode.command}: 503 unavailable, not delivered`, async () => {
      await mode.refuse(control);
      try {
        const r = await push('refused');
        assert.equal(r.status, 503, r.body);
        const body = JSON.parse(r.body);
        assert.equal(body.error, 'unavailable');
        assert.match(body.message, /Redis did not take the event/);
      } finally {
        await mode.allow(control);
      }
      const r = await push('after-refused');
      assert.equal(r.status, 202, r.body);
      // In order: the refused one never arrives.
      assert.equal((await rec.next('p'))[0], 'after-refused');
      if (adapter === 'streams') assert.ok(!(await streamText()).includes('"refused"'));
    });

    test(`Redis holds the ${mode.command} past requestsTimeout: 503 timeout`, async () => {
      await control.sendCommand(['CLIENT', 'PAUSE', String(REQUESTS_TIMEOUT_MS * 4), 'WRITE']);
      const t0 = Date.now();
      const r = await push('held');
      const ms = Date.now() - t0;
      await control.sendCommand(['CLIENT', 'UNPAUSE']);
      assert.equal(r.status, 503, r.body);
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'timeout');
      assert.match(body.message, /may still be delivered/);
      // Not before the timeout (with streams the count over the nodes waits
      // for its PUBLISH, which the pause holds too, so it may come later).
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
