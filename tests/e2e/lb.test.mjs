// Any node serves any request (issue 16): socket.io-client through a real
// haproxy (round robin per request, no stickiness) in front of three
// daheim-live nodes on one redis-server. Long-polling requests reach nodes
// that do not hold their session and are forwarded to the one that does;
// upgrades reach any node and are carried to the owner.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startLbCluster } from './lib/lb-cluster.mjs';
import { scrape } from './lib/metrics.mjs';
import { POLLING, Pool, UPGRADE, cmd, normalize } from './lib/sio.mjs';
import { poll, pollingHandshake, post, rawWs, request } from './lib/util.mjs';

const pool = new Pool();
let lb;

const bin = (...bytes) => Buffer.from(bytes);

async function total(name, labels = {}) {
  let sum = 0;
  for (const node of lb.nodes) sum += (await scrape(node.url)).value(name, labels);
  return sum;
}

before(async () => {
  lb = await startLbCluster({
    count: 3,
    config: { testHandler: 'socketio-e2e', socketio: { namespaces: ['/', '/custom'] } },
  });
});

after(async () => {
  pool.close();
  if (!lb) return;
  const exits = await lb.stop();
  // A clean exit (the ASan build's leak check included) of the nodes that
  // were not killed on purpose.
  for (const [i, exit] of exits.slice(0, 2).entries())
    assert.deepEqual(exit, { code: 0, signal: null }, lb.nodes[i].logs());
});

describe('Engine.IO requests through the balancer', () => {
  test('a session opened on one node is polled and posted to through the others', async () => {
    const forwardedBefore = await total('daheim_forward_requests_total', { outcome: 'forwarded' });
    const origin = 'http://app.example';
    const open = await pollingHandshake(lb.url, '/socket.io/', { origin });
    assert.match(open.sid, /^[A-Za-z0-9_-]{20}$/);
    // Each request goes to the next node: six in a row visit every node twice.
    for (let i = 0; i < 3; i++) {
      const packet = i === 0 ? '40' : `42["echo-event",${i}]`;
      const res = await post(lb.url, open.sid, packet, { headers: { origin } });
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      const got = await poll(lb.url, open.sid, { headers: { origin } });
      assert.equal(got.status, 200);
      assert.equal(got.headers['access-control-allow-origin'], '*');
      assert.equal(got.headers['content-type'], 'text/plain; charset=UTF-8');
      assert.equal(got.headers['cache-control'], 'no-store');
      if (i === 0) assert.match(got.body, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}\x1e42\["auth",\{\}\]/);
      else assert.equal(got.body, packet);
    }
    const forwarded = await total('daheim_forward_requests_total', { outcome: 'forwarded' });
    assert.ok(forwarded - forwardedBefore >= 4, `forwarded ${forwarded - forwardedBefore}`);
  });

  test('a held GET stays held on the owner until there is something to say', async () => {
    const open = await pollingHandshake(lb.url);
    await post(lb.url, open.sid, '40');
    assert.match((await poll(lb.url, open.sid)).body, /^40/);
    const t0 = Date.now();
    const held = poll(lb.url, open.sid);
    await new Promise((r) => setTimeout(r, 300));
    // The next POST lands on another node than the held GET (round robin).
    const res = await post(lb.url, open.sid, '42["echo-event","late"]');
    assert.equal(res.status, 200);
    const got = await held;
    assert.equal(got.status, 200);
    assert.equal(got.body, '42["echo-event","late"]');
    assert.ok(Date.now() - t0 >= 300);
  });

  test('an unknown sid is "Session ID unknown" on every node', async () => {
    for (const sid of ['AAAAAAAAAAAAAAAAAAAA', 'zzzzzz00000000000000']) {
      for (let i = 0; i < 3; i++) {
        const res = await poll(lb.url, sid);
        assert.equal(res.status, 400);
        assert.deepEqual(JSON.parse(res.body), { code: 1, message: 'Session ID unknown' });
      }
    }
    const unknown = await total('daheim_forward_requests_total', { outcome: 'unknown_sid' });
    assert.ok(unknown >= 4, `unknown ${unknown}`);
  });

  test('every node answers for a session of another, payloads in order', async () => {
    const open = await pollingHandshake(lb.nodes[2].url);
    assert.equal((await post(lb.nodes[0].url, open.sid, '40')).status, 200);
    assert.match((await poll(lb.nodes[1].url, open.sid)).body, /^40/);
    for (let i = 0; i < 3; i++)
      assert.equal((await post(lb.nodes[i].url, open.sid, `42["echo-event",${i}]`)).status, 200);
    assert.equal(
      (await poll(lb.nodes[0].url, open.sid)).body,
      '42["echo-event",0]\x1e42["echo-event",1]\x1e42["echo-event",2]',
    );
  });

  test('a raw WebSocket upgrade reaching another node is carried to the owner', async () => {
    const open = await pollingHandshake(lb.nodes[0].url);
    const ws = await rawWs(lb.nodes[1].url, `EIO=4&transport=websocket&sid=${open.sid}`);
    const held = poll(lb.nodes[2].url, open.sid);
    ws.ws.send('2probe');
    assert.deepEqual(await ws.next(), { data: '3probe', isBinary: false });
    assert.equal((await held).body, '6');
    ws.ws.send('5');
    ws.ws.send('40');
    assert.match((await ws.next()).data, /^40\{"sid":/);
    ws.ws.send('42["echo-event",1]');
    const frames = [];
    for (;;) {
      const f = await ws.next();
      frames.push(f.data);
      if (f.data.startsWith('42["echo-event"')) break;
    }
    assert.equal(frames.at(-1), '42["echo-event",1]');
    // Polling after the upgrade: 400 wherever it lands.
    assert.equal((await poll(lb.nodes[2].url, open.sid)).status, 400);
    ws.ws.close();
    await ws.closed;
  });
});

for (const [name, transports] of [['polling only', POLLING], ['polling then upgrade', UPGRADE]]) {
  describe(`socket.io-client through the balancer, ${name}`, () => {
    const opts = { transports };

    test('echo, binary and the transport', async () => {
      const { socket, hello } = await pool.connect(lb.url, '/', opts);
      assert.deepEqual(await cmd(socket, 'echo', 'hello', { n: 1 }), 'hello');
      const payload = [bin(1, 2, 3), { deep: [bin(4), 'x'] }];
      const answer = await socket.timeout(5000).emitWithAck('echo', ...payload);
      assert.deepEqual(normalize(answer), payload[0]);
      socket.emit('echo-event', ...payload);
      if (transports === UPGRADE) {
        await new Promise((resolve) => {
          if (socket.io.engine.transport.name === 'websocket') return resolve();
          socket.io.engine.once('upgrade', resolve);
        });
        const me = await cmd(socket, 'whoami');
        assert.equal(me.transport, 'websocket');
      } else {
        assert.equal(hello.transport, 'polling');
        assert.equal(socket.io.engine.transport.name, 'polling');
      }
      socket.disconnect();
    });

    test('rooms and broadcasts reach the sockets of every node', async () => {
      const a = await pool.connect(lb.url, '/', opts);
      const b = await pool.connect(lb.url, '/', opts);
      const c = await pool.connect(lb.url, '/', opts);
      await cmd(a.socket, 'join', ['lb-room']);
      await cmd(b.socket, 'join', ['lb-room']);
      assert.deepEqual(
        await cmd(c.socket, 'broadcast', { event: 'news', args: ['for the room'], rooms: ['lb-room'] }),
        [true],
      );
      assert.deepEqual(await a.rec.next('news'), ['for the room']);
      assert.deepEqual(await b.rec.next('news'), ['for the room']);
      // A broadcast to all after it: once c has it, c would have had the first.
      await cmd(c.socket, 'broadcast', { event: 'fence', args: [1] });
      for (const x of [a, b, c]) assert.deepEqual(await x.rec.next('fence'), [1]);
      assert.equal(c.rec.count('news'), 0);
      // Binary broadcasts too.
      await cmd(a.socket, 'broadcast', { event: 'bin', rooms: ['lb-room'], exceptSelf: true }, bin(7, 8));
      assert.deepEqual(normalize(await b.rec.next('bin')), [bin(7, 8)]);
      for (const x of [a, b, c]) x.socket.disconnect();
    });

    test('100 acks in flight both ways', async () => {
      const { socket, rec } = await pool.connect(lb.url, '/', opts);
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => socket.timeout(10000).emitWithAck('echo', i)),
      );
      assert.deepEqual(answers, Array.from({ length: 100 }, (_, i) => i));
      socket.on('question', (n, cb) => cb(n * 2));
      assert.equal(await cmd(socket, 'emit-with-ack', { event: 'question', timeoutMs: 10000, count: 100 }, 21), 100);
      for (let i = 0; i < 100; i++) assert.deepEqual(await rec.next('ack-result', 10000), [false, 42]);
      socket.disconnect();
    });
  });
}

test('forwarding metrics: requests, latency, carried WebSockets', async () => {
  const m = await Promise.all(lb.nodes.map((n) => scrape(n.url)));
  const sum = (f) => m.reduce((s, x) => s + f(x), 0);
  assert.ok(sum((x) => x.histogram('daheim_forward_duration_seconds', { method: 'POST' }).count) > 0);
  assert.ok(sum((x) => x.histogram('daheim_forward_duration_seconds', { method: 'GET' }).count) > 0);
  assert.ok(sum((x) => x.value('daheim_forward_websockets_total')) > 0);
  assert.ok(sum((x) => x.value('daheim_forward_messages_total')) > 0);
  // Forwarded requests reuse kept-alive connections to their node.
  assert.ok(sum((x) => x.value('daheim_forward_connections_reused_total')) > 0);
  const health = await request(`${lb.url}/healthz`);
  assert.equal(health.status, 200);
});

// Last: it takes a node away.
test('the sid of a node that died is "Session ID unknown" on the others', async () => {
  const open = await pollingHandshake(lb.nodes[2].url);
  await lb.nodes[2].stop('SIGKILL');
  for (const node of lb.nodes.slice(0, 2)) {
    const res = await poll(node.url, open.sid);
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 1, message: 'Session ID unknown' });
  }
});
