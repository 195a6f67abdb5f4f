// End-to-end: the start-up check of host limits (core/ops/host_limits). The
// real binary started under `ulimit -n 1024` with the default
// engineio.maxConnections (15000) logs the exact warning before it listens,
// and still starts; with a limit that fits it logs none.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';

import { binaryPath } from './lib/server.mjs';
import { spawnTied } from './lib/spawn.mjs';
import { withTimeout } from './lib/util.mjs';

// Starts the binary under `ulimit -n LIMIT` (a soft limit at most the hard
// one) and resolves to its stderr up to the "listening on" line.
function startUnderLimit(limit) {
  const child = spawnTied('sh', ['-c', `ulimit -n ${limit} && exec "$0" --listen 127.0.0.1:0`, binaryPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const ready = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/listening on http/.test(stderr)) resolve(stderr);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening:\n${stderr}`)));
  });
  return withTimeout(ready, 15000, 'listening on').finally(() => child.kill('SIGKILL'));
}

it('warns at start when the open-file limit is below engineio.maxConnections', async () => {
  const log = await startUnderLimit(1024);
  // Only the fd warning: somaxconn or conntrack may be low on the test host too.
  const warnings = log.split('\n').filter((l) => l.includes('host limits:') && l.includes('RLIMIT_NOFILE'));
  assert.deepEqual(warnings, [
    '<4>host limits: engineio.maxConnections is 15000 but the open-file limit (RLIMIT_NOFILE) is ' +
      '1024: at most 960 connections will be accepted; raise LimitNOFILE= (the packaged unit ' +
      'sets 1048576) or `ulimit -n`, or lower engineio.maxConnections',
  ]);
});

const hard = execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim();
const hardLimit = hard === 'unlimited' ? Infinity : Number(hard);
const fits = 15000 + 64;

it('says nothing about the open-file limit when maxConnections fits', {
  skip: hardLimit < fits ? `hard open-file limit ${hard} < ${fits}` : false,
}, async () => {
  const log = await startUnderLimit(fits);
  assert.ok(!log.includes('open-file limit'), log);
});
