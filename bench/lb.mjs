// Issue 16's benchmarks (BENCHMARKS.md, "Sessions on any node, workers"):
//   1. socket.io echo over long-polling, 50 clients back to back: one node
//      direct; haproxy in front of that one node (the balancer's own cost);
//      haproxy round robin in front of three nodes on one Redis (two requests
//      in three reach a node that does not hold the session: forwarded).
//   2. workers 1 vs 2 on one port: websocket echo (50 clients) and the
//      10,000-client fan-out.
// Server CPU is the sum over every daheim-live process (from /proc), so the
// forwarding node's work and the owner's are both counted.
//
//   DAHEIM_LIVE_BIN=build/core/app/daheim-live node bench/lb.mjs [--quick]
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { io } from 'socket.io-client';

import { startHaproxy, startLbCluster } from '../tests/e2e/lib/lb-cluster.mjs';
import { scrape } from '../tests/e2e/lib/metrics.mjs';
import { startRedis } from '../tests/e2e/lib/redis.mjs';
import { cpuSeconds, startServer } from '../tests/e2e/lib/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const loadgen = process.env.DAHEIM_LOADGEN_BIN || path.join(root, 'build/bench/daheim-loadgen');
const quick = process.argv.includes('--quick');
const seconds = quick ? 2 : 10;
const run = promisify(execFile);

const conformance = {
  log: { level: 'notice' },
  engineio: { maxConnections: 19500 },
  socketio: { namespaces: ['/'], eventsPerSecond: 0 },
  testHandler: 'socketio-conformance',
};
const e2e = { ...conformance, testHandler: 'socketio-e2e' };

function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
const cpuOf = (pids) => pids.reduce((s, p) => s + cpuSeconds(p), 0);

async function measure(port, pids, args) {
  const before = cpuOf(pids);
  const { stdout } = await run(loadgen, [...args, '--port', String(port), '--host', '127.0.0.1'], {
    maxBuffer: 1 << 24,
  });
  const cpu = cpuOf(pids) - before;
  const r = JSON.parse(stdout.trim().split('\n').pop());
  const ops = r.ops ?? r.burst_ops + r.paced_ops;
  return { ...r, cpu, us_per_op: (cpu * 1e6) / ops };
}

const rows = [];
const fanRows = [];
function fanRow(label, r) {
  const line = `| ${label} | ${r.conns} | ${(r.burst_wall_s * 1000).toFixed(0)} | ${r.burst_ops_per_s.toFixed(0)} | ${r.paced_delivery_p50_us.toFixed(0)} | ${r.paced_delivery_p99_us.toFixed(0)} | ${r.paced_received}/${r.paced_expected} | ${r.cpu.toFixed(2)} | ${r.errors} |`;
  fanRows.push(line);
  console.error(line);
}
function row(label, r) {
  const line = `| ${label} | ${r.ops_per_s.toFixed(0)} | ${r.p50_us.toFixed(0)} | ${r.p99_us.toFixed(0)} | ${r.us_per_op.toFixed(1)} | ${r.errors} |`;
  rows.push(line);
  console.error(line);
}

const pollingArgs = ['echo', '--transport', 'polling', '--clients', '50', '--warmup', '1', '--duration', String(seconds)];
{
  const one = await startServer(conformance);
  row('polling echo, one node direct', await measure(one.port, [one.pid], pollingArgs));
  const ha = await startHaproxy([one]);
  row('polling echo, haproxy → one node', await measure(ha.port, [one.pid], pollingArgs));
  await ha.stop();
  await one.stop();
}
{
  const lb = await startLbCluster({ count: 3, config: conformance });
  const r = await measure(lb.port, lb.nodes.map((n) => n.pid), pollingArgs);
  row('polling echo, haproxy → three nodes (forwarding)', r);
  await lb.stop();
}

// Upgrade anywhere: socket.io-clients that start polling and upgrade (as
// browsers do), then echo over the WebSocket. Through three nodes, the
// upgrade of two clients in three reaches a node that carries the WebSocket
// to the session's owner (one more hop per message).
async function upgradedEcho(url, pids, nodes) {
  const clients = quick ? 6 : 30;
  const acks = quick ? 100 : 1000;
  const sockets = await Promise.all(Array.from({ length: clients }, () => new Promise((resolve, reject) => {
    const s = io(url, { transports: ['polling', 'websocket'], forceNew: true, reconnection: false });
    s.io.engine.once('upgrade', () => resolve(s));
    s.once('connect_error', reject);
  })));
  let carried = 0;
  for (const n of nodes) carried += (await scrape(n.url)).value('daheim_forward_websockets');
  const before = cpuOf(pids);
  const t0 = process.hrtime.bigint();
  const lat = [];
  await Promise.all(sockets.map(async (s) => {
    for (let i = 0; i < acks; i++) {
      const t = process.hrtime.bigint();
      await s.emitWithAck('message-with-ack', i);
      lat.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuOf(pids) - before;
  for (const s of sockets) s.disconnect();
  lat.sort((a, b) => a - b);
  const ops = clients * acks;
  return { ops, ops_per_s: ops / wall, p50_us: lat[Math.floor(ops / 2)], p99_us: lat[Math.floor(ops * 0.99)],
    cpu, us_per_op: (cpu * 1e6) / ops, errors: 0, carried, clients };
}
{
  const one = await startServer(conformance);
  const r = await upgradedEcho(one.url, [one.pid], []);
  row(`upgraded websocket echo, one node direct (${r.clients} clients)`, r);
  const ha = await startHaproxy([one]);
  row('upgraded websocket echo, haproxy → one node', await upgradedEcho(ha.url, [one.pid], []));
  await ha.stop();
  await one.stop();
  const lb = await startLbCluster({ count: 3, config: conformance });
  const r3 = await upgradedEcho(lb.url, lb.nodes.map((n) => n.pid), lb.nodes);
  row(`upgraded websocket echo, haproxy → three nodes (${r3.carried} of ${r3.clients} carried)`, r3);
  await lb.stop();
}

const wsArgs = ['echo', '--clients', '50', '--warmup', '1', '--duration', String(seconds)];
const fanArgs = ['fanout', '--conns', quick ? '1000' : '10000', '--burst', '20', '--rate', '10', '--duration', String(seconds)];
for (const workers of [1, 2]) {
  const redis = await startRedis();
  for (const [label, config, args] of [['websocket echo, 50 clients', conformance, wsArgs], ['fan-out', e2e, fanArgs]]) {
    const srv = await startServer({ ...config, workers, cluster: { redis: redis.url } });
    await new Promise((r) => setTimeout(r, 1000)); // every worker listening
    const pids = workers > 1 ? children(srv.pid) : [srv.pid];
    const r = await measure(srv.port, pids, args);
    if (args[0] === 'fanout') fanRow(`fan-out, workers: ${workers}`, r);
    else row(`${label}, workers: ${workers}`, r);
    await srv.stop();
  }
  await redis.close();
}

console.log('| run | acks/s | p50 µs | p99 µs | server CPU µs/ack | errors |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
console.log('');
console.log('| run | clients | burst of 20: ms until all delivered | burst deliveries/s | paced (10/s) delivery p50 µs | p99 µs | paced received | server CPU s (whole run, connects included) | errors |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of fanRows) console.log(r);
