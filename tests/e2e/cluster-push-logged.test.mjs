// POST /api/v1/push in a cluster with the streams adapter answers 202 only
// once Redis has the event in the stream (issue 15: a node killed between
// the answer and the XADD must not lose a push the API saw accepted).
// - 202: the entry is in the stream when the answer arrives;
// - Redis refuses the XADD (maxmemory reached; PUBLISH still works, so the
//   count over the nodes completes): 503 "unavailable", and the client on
//   the node does not get the event either (the API server retries);
// - Redis holds writes longer than requestsTimeout (CLIENT PAUSE WRITE):
//   503 "timeout", not a 202.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startRedis } from './lib/redis.mjs';
import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { postPush } from './lib/util.mjs';

const REQUESTS_TIMEOUT_MS = 1000;
const dir = mkdtempSync(path.join(tmpdir(), 'daheim-push-logged-'));
const bearer = crypto.randomBytes(32).toString('base64url');
writeFileSync(path.join(dir, 'push.secret'), bearer);

let redis;
let control;
let A;
let B;
let client;
let rec;

function nodeConfig() {
  return {
    testHandler: 'socketio-e2e',
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
    plugins: [{ path: path.join(pluginsDir, 'push', 'push.so'),
      config: { bearerSecretFile: path.join(dir, 'push.secret') } }],
    cluster: { redis: redis.url, adapter: 'streams', requestsTimeout: REQUESTS_TIMEOUT_MS },
  };
}

function push(data) {
  return postPush(A.url, bearer, { to: { all: true }, event: 'p', data });
}

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
  [A, B] = await Promise.all([startServer(nodeConfig()), startServer(nodeConfig())]);
  client = io(A.url, { forceNew: true, transports: WS, reconnection: false });
  rec = new Recorder(client);
  await connected(client);
});

after(async () => {
  client?.disconnect();
  await Promise.allSettled([A?.stop(), B?.stop()]);
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cluster: a push is answered after Redis logged it', () => {
  test('202: the event is in the stream when the answer comes', async () => {
    for (let n = 1; n <= 5; ++n) {
      const r = await push(`first-${n}`);
      assert.equal(r.status, 202, r.body);
      assert.equal(JSON.parse(r.body).complete, true);
      assert.ok((await streamText()).includes(`first-${n}`), `push ${n} is in the stream`);
      assert.equal((await rec.next('p'))[0], `first-${n}`);
    }
  });

  test('Redis refuses the XADD: 503 unavailable, not delivered', async () => {
    await control.configSet({ maxmemory: '1', 'maxmemory-policy': 'noeviction' });
    try {
      const r = await push('refused');
      assert.equal(r.status, 503, r.body);
      const body = JSON.parse(r.body);
      assert.equal(body.error, 'unavailable');
      assert.match(body.message, /Redis did not take the event/);
    } finally {
      await control.configSet({ maxmemory: '0' });
    }
    const r = await push('after-refused');
    assert.equal(r.status, 202, r.body);
    // In order: the refused one never arrives.
    assert.equal((await rec.next('p'))[0], 'after-refused');
    assert.ok(!(await streamText()).includes('"refused"'));
  });

  test('Redis holds the XADD past requestsTimeout: 503 timeout', async () => {
    const pauseMs = REQUESTS_TIMEOUT_MS * 4;
    await control.sendCommand(['CLIENT', 'PAUSE', String(pauseMs), 'WRITE']);
    const t0 = Date.now();
    const r = await push('held');
    const ms = Date.now() - t0;
    assert.equal(r.status, 503, r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.error, 'timeout');
    assert.match(body.message, /may still be delivered/);
    // Not before the timeout (the count over the nodes waits for its
    // PUBLISH, which the pause holds too, so the answer may come later).
    assert.ok(ms >= REQUESTS_TIMEOUT_MS - 50, `answered after ${ms} ms`);
    await control.sendCommand(['CLIENT', 'UNPAUSE']);
    // Redis took it after all: delivered late, as the message says.
    assert.equal((await rec.next('p'))[0], 'held');
    const again = await push('after-held');
    assert.equal(again.status, 202, again.body);
    assert.equal((await rec.next('p'))[0], 'after-held');
  });
});
