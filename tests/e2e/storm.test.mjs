// Reconnect storms (issue 15, item 8): the server-wide handshake budget
// (engineio.handshakesPerSecond). Handshakes over it wait and are admitted at
// the budget's rate, first come first served; beyond the queue or the wait
// they are refused with 503 and Retry-After (a waiting WebSocket is closed). Then a node with a few hundred recovering clients is SIGKILLed and
// started again on its port with a small budget: every client recovers with
// every event it missed, once and in order.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import WebSocket from 'ws';

import { scrape } from './lib/metrics.mjs';
import { startRedis } from './lib/redis.mjs';
import { io, WS } from './lib/sio.mjs';
import { startServer } from './lib/server.mjs';
import { StreamsEmitter } from './lib/streams-emitter.mjs';
import { waitFor } from './lib/util.mjs';

const budgetOf = (m) => ({
  admitted: m.value('daheim_engineio_handshakes_admitted_total'),
  waited: m.value('daheim_engineio_handshakes_waited_total'),
  waiting: m.value('daheim_engineio_handshakes_waiting'),
  refused: m.value('daheim_limit_refusals_total', { limit: 'engineio.handshakesPerSecond' }),
});

// A polling handshake on its own connection: { status, headers, body, at }
// (`at`: ms after `t0` when the answer came).
function pollingHandshake(url, t0) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/socket.io/?EIO=4&transport=polling`, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body, at: performance.now() - t0 }));
    });
    req.on('error', reject);
  });
}

// A WebSocket handshake: { open, at } once the open packet came, { status,
// headers } when the upgrade was refused, { close, reason } when closed first.
function wsHandshake(url, t0) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode, headers: res.headers });
      res.resume();
    });
    ws.on('message', (data) => {
      resolve({ open: String(data), at: performance.now() - t0 });
      ws.close();
    });
    ws.on('close', (code, reason) => resolve({ close: code, reason: String(reason) }));
    ws.on('error', () => {});
  });
}

describe('the handshake budget', () => {
  test('holds: handshakes over the burst are admitted at the rate, none refused', async () => {
    const rate = 25;
    const burst = 10;
    const n = 60;
    const srv = await startServer({
      drainTime: 500,
      engineio: { handshakesPerSecond: rate, handshakeBurst: burst, maxHandshakesWaiting: 1000,
        maxHandshakeWait: 20000 },
    });
    try {
      const t0 = performance.now();
      const answers = await Promise.all(Array.from({ length: n }, (_, i) =>
        (i % 2 ? wsHandshake(srv.url, t0) : pollingHandshake(srv.url, t0))));
      for (const a of answers) {
        if ('status' in a) assert.equal(a.status, 200);
        const open = a.open ?? a.body;
        assert.match(open, /^0\{"sid":"/, 'every handshake got its open packet');
      }
      const times = answers.map((a) => a.at).sort((a, b) => a - b);
      // Admitted by time t: at most burst + rate * t (t from before the
      // first request: the server saw each one later than that).
      times.forEach((at, i) => {
        const k = i + 1;
        const earliest = ((k - burst) / rate) * 1000;
        assert.ok(at >= earliest, `handshake ${k} answered at ${at.toFixed(0)} ms, before ${earliest} ms`);
      });
      const last = times.at(-1);
      const ideal = ((n - burst) / rate) * 1000;
      const measured = ((n - burst) / (last - times[burst - 1])) * 1000;
      // Not slower than the budget either (loaded CI: a generous margin).
      assert.ok(last < ideal + 5000, `the last one at ${last.toFixed(0)} ms (budget: ${ideal} ms)`);
      console.log(`admitted ${n}: ${burst} at once, then ${measured.toFixed(1)}/s (budget ${rate}/s); last at ${last.toFixed(0)} ms`);
      const b = budgetOf(await scrape(srv.url));
      assert.deepEqual(b, { admitted: n, waited: n - burst, waiting: 0, refused: 0 });
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  test('refuses beyond the queue or the wait: 503, Retry-After, the Engine.IO error body', async () => {
    const srv = await startServer({
      drainTime: 500,
      engineio: { handshakesPerSecond: 1, handshakeBurst: 1, maxHandshakesWaiting: 2, maxHandshakeWait: 400 },
    });
    try {
      const t0 = performance.now();
      assert.equal((await pollingHandshake(srv.url, t0)).status, 200);
      const waiting = [pollingHandshake(srv.url, t0), pollingHandshake(srv.url, t0)];
      await waitFor('two handshakes waiting', async () => budgetOf(await scrape(srv.url)).waiting === 2);
      const full = await pollingHandshake(srv.url, t0);
      assert.equal(full.status, 503);
      assert.equal(full.headers['retry-after'], '3'); // two waiting + this one, at 1 per second
      assert.equal(full.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(full.body), { code: 4, message: 'Server busy: too many handshakes, retry later' });
      const ws = await wsHandshake(srv.url, t0);
      assert.equal(ws.status, 503, 'a WebSocket is refused before the upgrade');
      assert.equal(ws.headers['retry-after'], '3');
      // The two waited 400 ms: no token came back in that time.
      for (const late of await Promise.all(waiting)) {
        assert.equal(late.status, 503);
        assert.ok(late.at >= 400, `refused after its wait (${late.at.toFixed(0)} ms)`);
        assert.deepEqual(JSON.parse(late.body), { code: 4, message: 'Server busy: too many handshakes, retry later' });
      }
      assert.deepEqual(budgetOf(await scrape(srv.url)), { admitted: 1, waited: 2, waiting: 0, refused: 4 });
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });

  test('a WebSocket that waited in vain is closed without its open packet', async () => {
    const srv = await startServer({
      drainTime: 500,
      engineio: { handshakesPerSecond: 1, handshakeBurst: 1, maxHandshakesWaiting: 10, maxHandshakeWait: 300 },
    });
    try {
      const t0 = performance.now();
      assert.match((await wsHandshake(srv.url, t0)).open, /^0\{"sid":"/);
      const late = await wsHandshake(srv.url, t0);
      // Closed without its open packet: 1013 Try Again Later, on every loop.
      assert.deepEqual(late, { close: 1013, reason: 'Server busy: too many handshakes, retry later' });
      assert.ok(performance.now() - t0 >= 300, 'after its wait');
      assert.deepEqual(budgetOf(await scrape(srv.url)), { admitted: 1, waited: 1, waiting: 0, refused: 1 });
    } finally {
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });
});

describe('accepts per loop turn', () => {
  test('connections waiting together: those over maxAcceptsPerTurn wait for the next turn, every one served', async () => {
    const srv = await startServer({ drainTime: 500, engineio: { maxAcceptsPerTurn: 1 } });
    try {
      // Stopped, the server lets them all wait in its listen backlog, each
      // with its request sent; continued, it finds them at once and takes
      // one per turn.
      srv.child.kill('SIGSTOP');
      const t0 = performance.now();
      const attempts = Array.from({ length: 10 }, () => pollingHandshake(srv.url, t0).then((a) => a.status, (e) => e.message));
      await new Promise((r) => setTimeout(r, 300));
      srv.child.kill('SIGCONT');
      assert.deepEqual(await Promise.all(attempts), Array(10).fill(200));
      // Each of the first nine turns ended with more waiting.
      const m = await scrape(srv.url);
      const ended = m.value('daheim_limit_refusals_total', { limit: 'engineio.maxAcceptsPerTurn' });
      assert.ok(ended >= 9, `${ended} turns ended by the limit`);
    } finally {
      srv.child.kill('SIGCONT');
      assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    }
  });
});

describe('a reconnect storm after SIGKILL', () => {
  const CLIENTS = 300;
  let redis;
  let control;

  before(async () => {
    redis = await startRedis();
    control = await redis.control();
  });

  after(async () => {
    await redis?.close();
  });

  const nodeConfig = (engineio = {}) => ({
    testHandler: 'socketio-e2e',
    engineio,
    socketio: { connectionStateRecovery: { maxDisconnectionDuration: 60000 } },
    cluster: { redis: redis.url, adapter: 'streams' },
  });

  test(`${CLIENTS} clients, the node restarted with a small budget: all recover, nothing lost`, async () => {
    const rate = 40;
    const burst = 10;
    let node = await startServer(nodeConfig());
    const emitter = new StreamsEmitter(control);
    const clients = [];
    let sent = 0;
    let timer;
    try {
      for (let i = 0; i < CLIENTS; ++i) {
        // Half start on WebSocket, half on polling (then upgrade): both wait.
        const socket = io(node.url, { forceNew: true, transports: i % 2 ? WS : ['polling', 'websocket'] });
        const c = { socket, e: [], sids: [], recovered: [] };
        socket.on('e', (n) => c.e.push(n));
        socket.on('connect', () => {
          c.sids.push(socket.id);
          c.recovered.push(socket.recovered);
          c.at = performance.now();
        });
        clients.push(c);
      }
      await waitFor('every client connected', () => clients.every((c) => c.sids.length === 1), 30000);
      timer = setInterval(() => emitter.emit('e', [++sent]), 10);
      await waitFor('a few events everywhere', () => clients.every((c) => c.e.length > 10));
      await node.stop('SIGKILL');
      await new Promise((r) => setTimeout(r, 500)); // events go on while it is down
      node = await startServer(nodeConfig({ handshakesPerSecond: rate, handshakeBurst: burst,
        maxHandshakesWaiting: 20, maxHandshakeWait: 2000 }), { listen: `127.0.0.1:${node.port}` });
      const restarted = performance.now();
      await waitFor('every client back', () => clients.every((c) => c.sids.length === 2), 60000);
      const span = Math.max(...clients.map((c) => c.at)) - restarted;
      clearInterval(timer);
      const last = sent;
      await waitFor('the last event everywhere', () => clients.every((c) => c.e.at(-1) === last), 15000);
      const all = Array.from({ length: last }, (_, i) => i + 1);
      for (const c of clients) {
        assert.deepEqual(c.recovered, [false, true], 'recovered on the way back');
        assert.equal(c.sids[1], c.sids[0], 'the same socket id');
        assert.deepEqual(c.e, all, 'every event once, in order');
      }
      const b = budgetOf(await scrape(node.url));
      console.log(`${CLIENTS} back ${span.toFixed(0)} ms after the restart; budget: ${JSON.stringify(b)}`);
      assert.ok(b.admitted >= CLIENTS, `every client admitted (${b.admitted})`);
      assert.ok(b.waited > 0 && b.refused > 0, 'the budget held some and refused some');
      // Admitted no faster than the budget: burst + rate per second.
      assert.ok(span >= ((CLIENTS - burst) / rate) * 1000, `all back within ${span.toFixed(0)} ms: faster than the budget`);
    } finally {
      clearInterval(timer);
      for (const c of clients) {
        c.socket.io.reconnection(false);
        c.socket.disconnect();
      }
      await node.stop();
    }
  });
});
