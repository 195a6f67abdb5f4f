// Sessions served by any node (issue 16): a real haproxy (Debian's), round
// robin per request and no stickiness, in front of several daheim-live nodes
// on one redis-server, everything on free loopback ports. Ready when haproxy
// accepts connections and every node has advertised its internal address
// (the <key>#route#<tag> keys in Redis).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { freePort, startRedis } from './redis.mjs';
import { startServer } from './server.mjs';
import { spawnTied } from './spawn.mjs';

function connectable(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// haproxy in HTTP mode: every request is balanced on its own (the server
// side is closed after each answer), WebSockets are tunnelled.
export async function startHaproxy(backends, { port } = {}) {
  const listen = port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'daheim-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, [
    'global',
    '  maxconn 8000',
    'defaults',
    '  mode http',
    '  option http-server-close',
    '  timeout connect 5s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  timeout tunnel 1h',
    'frontend socketio',
    `  bind 127.0.0.1:${listen}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    ...backends.map((b, i) => `  server node${i + 1} 127.0.0.1:${b.port}`),
    '',
  ].join('\n'));
  // Tied to the test process: no haproxy left on its port when that is killed.
  const child = spawnTied('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  exited.then(() => (gone = true));
  await until('haproxy listening', async () => {
    if (gone) throw new Error(`haproxy exited:\n${log}`);
    return connectable(listen);
  });
  return {
    port: listen,
    pid: child.pid,
    url: `http://127.0.0.1:${listen}`,
    logs: () => log,
    async stop() {
      if (!gone) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// `config`: overrides for every node (startServer's); `count` nodes.
export async function startLbCluster({ count = 3, config = {}, port, key = 'socket.io' } = {}) {
  const redis = await startRedis();
  const nodes = [];
  let haproxy;
  // Resolves with each node's exit ({ code, signal }), in order.
  const stop = async () => {
    await haproxy?.stop();
    const exits = await Promise.all(nodes.map((n) => n.stop()));
    await redis.close();
    return exits;
  };
  try {
    for (let i = 0; i < count; i++) {
      const cluster = { ...(config.cluster ?? {}), redis: redis.url, key };
      nodes.push(await startServer({ ...config, cluster }));
    }
    const control = await redis.control();
    try {
      await until('every node advertised', async () =>
        (await control.keys(`${key}#route#*`)).length === count);
    } finally {
      await control.quit();
    }
    haproxy = await startHaproxy(nodes, { port });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: haproxy.url, port: haproxy.port, nodes, redis, haproxy, stop };
}
