// `workers`: several processes on one port (SO_REUSEPORT), each a node of
// the cluster, under a supervisor that restarts a dead one. socket.io-clients
// spread over the workers; when one is killed (SIGKILL) its clients come
// back on the others (and on its replacement) and recover their sessions
// (the streams adapter keeps them in Redis); reload and stop reach every
// worker; more than one worker without a cluster is a config error.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startRedis } from './lib/redis.mjs';
import { binaryPath } from './lib/server.mjs';
import { POLLING, Pool, WS, cmd, connected } from './lib/sio.mjs';
import { startSioServer } from './lib/sio.mjs';

const work = mkdtempSync(path.join(tmpdir(), 'daheim-workers-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(config) {
  const file = path.join(work, `bad-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  return { ...spawnSync(binaryPath, ['--config', file], { encoding: 'utf8', timeout: 10000 }), file };
}

describe('workers config', () => {
  test('more than one worker without a cluster section is refused (78, file and key named)', () => {
    const r = run({ listen: '127.0.0.1:0', workers: 2 });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, new RegExp(`config error: ${r.file}: key workers: more than one worker needs a cluster section`));
  });

  test('a bad value is named', () => {
    for (const workers of [0, 'many', 1.5]) {
      const r = run({ listen: '127.0.0.1:0', workers, cluster: {} });
      assert.equal(r.status, 78, r.stderr);
      assert.match(r.stderr, /key workers: expected/);
    }
    const r = run({ listen: '127.0.0.1:0', workers: 2, cluster: { forwarding: false } });
    assert.equal(r.status, 78, r.stderr);
    assert.match(r.stderr, /key cluster\.forwarding: workers share one port/);
  });

  test('"auto" is one worker per core', () => {
    const r = spawnSync(binaryPath, ['--check-config', (() => {
      const file = path.join(work, 'auto.json');
      writeFileSync(file, JSON.stringify({ workers: 'auto', cluster: {} }));
      return file;
    })()], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('two workers on one port', () => {
  const pool = new Pool();
  let redis;
  let srv;

  async function logged(re, ms = 15000) {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(srv.logs());
      if (m) return m;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}\n${srv.logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const workerPids = () => [...srv.logs().matchAll(/worker (\d+) \(pid (\d+)\) starting/g)]
    .map((m) => ({ index: Number(m[1]), pid: Number(m[2]) }));

  before(async () => {
    redis = await startRedis();
    // Sessions in Redis (the streams adapter), so a killed worker's clients
    // recover on the other worker or on its replacement.
    srv = await startSioServer({ connectionStateRecovery: { maxDisconnectionDuration: 30000 } },
      { workers: 2, cluster: { redis: redis.url, adapter: 'streams' } });
    await logged(/workers: 2 ready, listening on http:\/\/127\.0\.0\.1:(\d+)/);
    // Both workers have advertised their internal address.
    const control = await redis.control();
    const end = Date.now() + 15000;
    while ((await control.keys('socket.io#route#*')).length < 2) {
      if (Date.now() > end) throw new Error(`workers not advertised\n${srv.logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await control.quit();
  });
  after(async () => {
    pool.close();
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    await redis?.close();
  });

  test('clients spread over both workers; a killed worker is started again and its clients come back', async () => {
    const clients = [];
    for (let i = 0; i < 16; i++) {
      const transports = i % 2 ? WS : POLLING;
      clients.push(await pool.connect(srv.url, '/', { transports, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500 }));
    }
    // The sid's first six characters name the worker (node) that holds it.
    for (const c of clients) c.id = c.socket.id;
    const tags = new Set(clients.map((c) => c.hello.engine.slice(0, 6)));
    assert.equal(tags.size, 2, `sessions on ${tags.size} workers`);
    const before = workerPids();
    assert.equal(before.length, 2);
    const victim = before[0];
    const lost = [];
    for (const c of clients) {
      const gone = new Promise((resolve) => c.socket.once('disconnect', resolve));
      lost.push({ c, gone });
    }
    process.kill(victim.pid, 'SIGKILL');
    await logged(new RegExp(`worker ${victim.index} \\(pid ${victim.pid}\\) killed by signal 9; starting it again`));
    await logged(new RegExp(`worker ${victim.index} \\(pid (?!${victim.pid}\\))\\d+\\) starting`));
    // Clients of the dead worker lost their connection and connected again;
    // every client answers.
    const timeout = new Promise((r) => setTimeout(() => r(false), 3000));
    const dropped = await Promise.all(lost.map(({ gone }) => Promise.race([gone.then(() => true), timeout])));
    const hit = clients.filter((_, i) => dropped[i]);
    assert.ok(hit.length > 0 && hit.length < clients.length, `${hit.length} of ${clients.length} lost their worker`);
    // Every session of the dead worker (one tag) is lost; WebSocket clients
    // of the other keep theirs. (A polling client of the other may lose a
    // request the dead worker was forwarding, and reconnects too.)
    const tag = (c) => c.hello.engine.slice(0, 6);
    const wsHitTags = new Set(hit.filter((c) => c.hello.transport === 'websocket').map(tag));
    assert.equal(wsHitTags.size, 1, 'WebSocket clients of one worker only lost it');
    const [dead] = wsHitTags;
    clients.forEach((c, i) => {
      if (tag(c) === dead) assert.ok(dropped[i], `client ${i} of the dead worker`);
      else if (c.hello.transport === 'websocket') assert.ok(!dropped[i], `WebSocket client ${i} of the other`);
    });
    for (const c of hit) if (!c.socket.connected) await connected(c.socket, 15000);
    // ... and recovered their sessions (same socket id, from the sessions in Redis).
    for (const c of hit) {
      assert.ok(c.socket.recovered, `client ${clients.indexOf(c)} recovered its session`);
      assert.equal(c.socket.id, c.id, 'the same socket id');
    }
    for (const c of clients) assert.equal(await cmd(c.socket, 'echo', 'still here'), 'still here');
    // The replacement advertised itself too.
    await logged(/(?:sessions of this node are reached at[^\n]*\n[\s\S]*){3}/);
  });

  test('SIGHUP reaches every worker', async () => {
    const reloads = () => (srv.logs().match(/reloaded .*: log level applied/g) ?? []).length;
    const n = reloads();
    process.kill(srv.pid, 'SIGHUP');
    await logged(/workers: reload passed on to 2 workers/);
    const end = Date.now() + 10000;
    while (reloads() < n + 2) {
      if (Date.now() > end) throw new Error(`reloads: ${reloads() - n}\n${srv.logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  test('SIGTERM stops every worker, then the supervisor (exit 0)', async () => {
    const pids = workerPids().map((w) => w.pid);
    pool.close();
    assert.deepEqual(await srv.stop('SIGTERM'), { code: 0, signal: null }, srv.logs());
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
    assert.match(srv.logs(), /workers: stopped/);
    srv = null;
  });
});
