// End-to-end: the load generator's Daheim workload (bench/loadgen.cpp,
// scenario `daheim`) against the real binary with the presence and push
// plugins, as in production: a few hundred users with HS256 tokens signed
// with the configured secret, for a few seconds. Every service level must
// hold, what the generator sent must have arrived, and its counts must agree
// with the server's own /metrics. A push that does not arrive must fail the
// run (the generator's --drop-push-every self-test).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { startServer, tempFiles } from './lib/server.mjs';
import { request } from './lib/util.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = process.env.DAHEIM_BUILD_DIR || path.join(repoRoot, 'build');
const pluginsDir = path.resolve(process.env.DAHEIM_PLUGINS_DIR || path.join(buildDir, 'plugins'));
const loadgen = process.env.DAHEIM_LOADGEN_BIN || path.join(buildDir, 'bench/daheim-loadgen');

const { dir, file } = tempFiles('daheim-workload-');
const userSecret = crypto.randomBytes(48).toString('base64url');
const pushSecret = crypto.randomBytes(48).toString('base64url');

const USERS = 300;

function serverConfig() {
  return {
    testHandler: undefined,
    auth: {
      hmacSecretFiles: [{ path: file('users.key', userSecret), alg: 'HS256' }],
      audiences: ['realtime'],
    },
    pluginDir: pluginsDir,
    plugins: [
      { path: 'presence/presence.so' },
      { path: 'push/push.so', config: { bearerSecretFile: file('push.secret', pushSecret) } },
    ],
  };
}

// Runs the generator; resolves to { code, report (the JSON line), stderr }.
function runLoadgen(server, extra = []) {
  const args = ['daheim', '--port', String(server.port), '--server-pid', String(server.pid),
    '--users', String(USERS), '--duration', '4', '--drain', '10',
    '--secret', userSecret, '--push-secret', pushSecret,
    // Rates far above a tutoring site's, so that every kind of traffic
    // happens many times within the few seconds of the run.
    '--churn-per-min', '6', '--ready-per-min', '30', '--calls-per-min', '30',
    '--push-per-min', '60', '--polling-share', '0.2', '--two-tab-share', '0.15', ...extra];
  return new Promise((resolve, reject) => {
    const child = spawn(loadgen, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve({ code, report: JSON.parse(stdout), stderr });
      } catch (err) {
        reject(new Error(`loadgen exited ${code} without a JSON report: ${err.message}\n${stdout}\n${stderr}`));
      }
    });
  });
}

// daheim_plugin_calls_total{plugin,method,outcome} from /metrics.
async function pluginCalls(server) {
  const res = await request(`${server.url}/metrics`);
  const calls = {};
  for (const m of res.body.matchAll(/^daheim_plugin_calls_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${labels.method}:${labels.outcome}`;
    calls[key] = (calls[key] ?? 0) + Number(m[2]);
  }
  return calls;
}

describe('the Daheim workload of the load generator', () => {
  let server;
  before(async () => {
    server = await startServer(serverConfig());
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a few hundred users for a few seconds hold every service level, and everything sent arrived', async () => {
    const { code, report: r, stderr } = await runLoadgen(server);
    const why = `${JSON.stringify(r)}\n${stderr}\n${server.logs()}`;
    assert.equal(code, 0, why);
    assert.equal(r.slo_ok, 1, why);
    assert.equal(r.slo_failed, '', why);
    // The population: every tab joined; teachers, second tabs and polling all present.
    assert.equal(r.users, USERS);
    assert.equal(r.connected_all, 1, why);
    assert.ok(r.teachers > 0 && r.teachers < USERS, why);
    assert.ok(r.two_tab_users > 0 && r.tabs === USERS + r.two_tab_users, why);
    assert.ok(r.polling_tabs > 0, why);
    // Calls: every one answered, none with an error.
    assert.ok(r.ready_toggles > 0 && r.list_calls > 0, why);
    assert.equal(r.calls_sent, r.ready_toggles + r.list_calls, why);
    assert.equal(r.acks, r.calls_sent, why);
    assert.equal(r.ack_errors + r.unexpected_acks + r.calls_lost + r.acks_missing, 0, why);
    // Pushes: every one accepted and delivered to every tab of its user once.
    assert.ok(r.pushes_sent > 0, why);
    assert.equal(r.pushes_accepted, r.pushes_sent, why);
    assert.ok(r.push_deliveries_expected > r.pushes_sent, why);  // some users have two tabs
    assert.equal(r.push_deliveries, r.push_deliveries_expected, why);
    assert.equal(r.pushes_unsent + r.pushes_missed + r.push_duplicates + r.push_misdelivered + r.push_http_errors, 0, why);
    assert.equal(r.push_sockets_fewer, 0, why);
    // Churn: users left and came back; nobody was disconnected unasked.
    assert.ok(r.leaves > 0, why);
    assert.ok(r.joins >= r.tabs + r.leaves, why);
    assert.equal(r.disconnects_unrequested + r.errors, 0, why);
    // The presence plugin's broadcasts reached the clients.
    assert.ok(r.events_online > 0 && r.events_ready_users > 0 && r.events_user_is_ready > 0, why);
    assert.equal(r.events_other, 0, why);
    assert.ok(r.ack_p99_us > 0 && r.push_p99_us > 0 && r.server_cpu_share > 0, why);
    // The server counted the same calls.
    const calls = await pluginCalls(server);
    assert.equal(calls['$ready:ok'], r.ready_toggles, JSON.stringify(calls));
    assert.equal(calls['$presence.list:ok'], r.list_calls, JSON.stringify(calls));
  });

  it('a push that does not arrive fails the run (exit 3, missed_push)', async () => {
    const { code, report: r } = await runLoadgen(server, ['--drop-push-every', '10', '--drain', '2']);
    const why = JSON.stringify(r);
    assert.equal(code, 3, why);
    assert.equal(r.slo_ok, 0, why);
    assert.ok(r.slo_failed.split(',').includes('missed_push'), why);
    assert.ok(r.push_dropped_on_purpose > 0, why);
    assert.equal(r.push_deliveries_missed, r.push_dropped_on_purpose, why);
    assert.ok(r.pushes_missed > 0 && r.pushes_missed <= r.push_dropped_on_purpose, why);
    assert.equal(r.push_arrivals, r.push_deliveries_expected, why);
  });
});
