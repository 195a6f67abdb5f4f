// The demo page (core/dev/demo/index.html) in headless Chromium: Debian's
// `chromium`, driven by playwright-core. A teacher and a student log in on
// two pages with development tokens (`daheim-live token`); each sees the
// other come online; the student's ready state reaches the teacher; a push
// sent over HTTP (and one sent from the page's form) appears on the right
// page only. Once with the default transports (polling, then the upgrade to
// WebSocket), once WebSocket-only, and once with the default transports
// through haproxy (round robin, no stickiness) in front of three nodes on one
// Redis: every request may reach any node (issue 16). Then the two pages on
// two nodes of a cluster (one redis-server, started here): they see each
// other online and ready, and a push through either node reaches the page on
// the other one. Screenshots are kept in $DAHEIM_BROWSER_ARTIFACTS
// (build/tests/browser/artifacts/demo.png).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { startLbCluster } from '../e2e/lib/lb-cluster.mjs';
import { scrape } from '../e2e/lib/metrics.mjs';
import { startRedis } from '../e2e/lib/redis.mjs';
import { binaryPath, startServer } from '../e2e/lib/server.mjs';
import { artifacts, launchChromium } from './chromium.mjs';
import { request } from '../e2e/lib/util.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pluginsDir = path.resolve(process.env.DAHEIM_PLUGINS_DIR || path.join(repoRoot, 'build/plugins'));
const clientScript = path.join(repoRoot, 'node_modules/socket.io-client/dist/socket.io.min.js');
const WAIT_MS = 15000;

const work = mkdtempSync(path.join(tmpdir(), 'daheim-browser-'));
const pushSecret = crypto.randomBytes(32).toString('base64url');
const pushSecretFile = path.join(work, 'push.secret');
writeFileSync(pushSecretFile, `${pushSecret}\n`);

function serverConfig() {
  return {
    testHandler: undefined,
    auth: { devSecret: crypto.randomBytes(32).toString('base64url'), audiences: ['realtime'] },
    demo: { enabled: true, clientScript },
    plugins: [
      { path: path.join(pluginsDir, 'presence', 'presence.so'), config: { readyGrace: 0 } },
      { path: path.join(pluginsDir, 'push', 'push.so'), config: { bearerSecretFile: pushSecretFile } },
    ],
  };
}

// A development token, minted as scripts/run.sh does.
function token(srv, sub, role) {
  return execFileSync(binaryPath, ['token', '--sub', sub, '--role', role, '--ttl', '1h', '--config', srv.configFile], {
    encoding: 'utf8',
  }).trim();
}

// A push, and its `sockets` figure when one node answers for all.
async function pushed(srv, body, sockets) {
  const answer = await push(srv, body);
  // In a cluster the count covers every node, and says that every node answered.
  assert.deepEqual(answer, srv.nodes ? { sockets, complete: true } : { sockets });
}

// Three nodes behind haproxy, as one server for the tests below.
async function startBalanced(config) {
  const lb = await startLbCluster({ count: 3, config });
  return {
    url: lb.url,
    nodes: lb.nodes,
    configFile: lb.nodes[0].configFile,
    logs: () => lb.nodes.map((n) => n.logs()).join('\n'),
    async stop() {
      await lb.haproxy.stop();
      const exits = await Promise.all(lb.nodes.map((n) => n.stop()));
      await lb.redis.close();
      return exits.find((e) => e.code !== 0 || e.signal !== null) ?? { code: 0, signal: null };
    },
  };
}

async function push(srv, body) {
  const res = await request(`${srv.url}/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${pushSecret}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 202, res.body);
  return JSON.parse(res.body);
}

// Waits until the text of `selector` on `page` satisfies `want` (a string to
// equal or a RegExp to match).
async function waitText(page, selector, want) {
  const source = want instanceof RegExp ? { re: want.source, flags: want.flags } : { eq: want };
  try {
    await page.waitForFunction(
      ([sel, w]) => {
        const el = document.querySelector(sel);
        if (!el) return false;
        const t = el.textContent.trim();
        return w.re !== undefined ? new RegExp(w.re, w.flags).test(t) : t === w.eq;
      },
      [selector, source],
      { timeout: WAIT_MS },
    );
  } catch (err) {
    const now = await page.evaluate((sel) => document.querySelector(sel)?.textContent, selector);
    throw new Error(`${selector}: waited for ${want}, have ${JSON.stringify(now)}: ${err.message}`);
  }
}

const count = (page, selector) => page.locator(selector).count();

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

const modes = [
  { name: 'default transports (polling, then upgrade)', transports: 'polling,websocket', shot: 'demo.png' },
  { name: 'websocket only', transports: 'websocket', shot: 'demo-websocket.png' },
  { name: 'default transports through a round-robin balancer, three nodes', transports: 'polling,websocket',
    shot: 'demo-balanced.png', balanced: true },
];

for (const mode of modes) {
  describe(`demo page, ${mode.name}`, () => {
    let srv;
    let teacher;
    let student;
    const contexts = [];

    // A page in its own browser context, recording its Engine.IO requests
    // and any script error.
    async function newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      page.eio = [];
      page.errors = [];
      page.on('request', (req) => {
        if (req.url().includes('/socket.io/?')) page.eio.push(req.url());
      });
      page.on('websocket', (ws) => page.eio.push(ws.url()));
      page.on('pageerror', (err) => page.errors.push(err.message));
      return page;
    }

    async function login(page, tok) {
      await page.goto(`${srv.url}/`);
      await page.fill('#token', tok);
      await page.selectOption('#transports', mode.transports);
      await page.click('#connect');
      await waitText(page, '#status', 'connected');
    }

    before(async () => {
      srv = mode.balanced ? await startBalanced(serverConfig()) : await startServer(serverConfig());
      teacher = await newPage();
      student = await newPage();
    });
    after(async () => {
      for (const c of contexts) await c.close();
      if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
    });

    it('serves the page and the socket.io client script', async () => {
      const page = await request(`${srv.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'], /text\/html/);
      assert.match(page.body, /src="\/socket\.io\/socket\.io\.min\.js"/);
      const script = await request(`${srv.url}/socket.io/socket.io.min.js`);
      assert.equal(script.status, 200);
      assert.match(script.headers['content-type'], /javascript/);
      assert.match(script.body, /Socket\.IO v4/);
    });

    it('a teacher and a student log in and each sees the other come online', async () => {
      await login(teacher, token(srv, 'tina', 'teacher'));
      await waitText(teacher, '#who', 'tina (teacher)');
      await waitText(teacher, '#online-teachers', '1');
      await waitText(teacher, '#online-students', '0');

      await login(student, token(srv, 'sam', 'student'));
      await teacher.waitForSelector('#users li[data-user="sam"]', { timeout: WAIT_MS });
      await student.waitForSelector('#users li[data-user="tina"]', { timeout: WAIT_MS });
      for (const page of [teacher, student]) {
        await waitText(page, '#online-teachers', '1');
        await waitText(page, '#online-students', '1');
      }
    });

    it(`uses the ${mode.name}`, async () => {
      for (const page of [teacher, student]) {
        await waitText(page, '#transport', 'websocket');
        const polled = page.eio.some((u) => u.includes('transport=polling'));
        const ws = page.eio.some((u) => u.startsWith('ws') && u.includes('transport=websocket'));
        assert.equal(polled, mode.transports.startsWith('polling'), page.eio.join('\n'));
        assert.ok(ws, page.eio.join('\n'));
      }
      if (mode.balanced) {
        // Requests did reach nodes that do not hold their session.
        let forwarded = 0;
        for (const node of srv.nodes)
          forwarded += (await scrape(node.url)).value('daheim_forward_requests_total', { outcome: 'forwarded' });
        assert.ok(forwarded > 0, `forwarded ${forwarded}`);
      }
    });

    it("the student's ready state reaches the teacher", async () => {
      assert.equal(await teacher.isDisabled('#ready'), true, 'teachers have no ready toggle');
      await student.fill('#topic', 'fractions');
      await student.check('#ready');
      await waitText(student, '#my-ready', 'ready: fractions');
      await waitText(teacher, '#ready-users li[data-user="sam"]', /fractions/);
      await waitText(teacher, '#users li[data-user="sam"]', /ready/);
    });

    it('a push over HTTP appears on the right page only', async () => {
      await pushed(srv, { to: { user: 'sam' }, event: 'lessonInvite', data: { from: 'tina' } }, 1);
      await pushed(srv, { to: { user: 'tina' }, event: 'studentWaiting', data: { studentId: 'sam' } }, 1);
      await waitText(student, '#pushes li[data-event="lessonInvite"] pre', '{"from":"tina"}');
      await waitText(teacher, '#pushes li[data-event="studentWaiting"] pre', '{"studentId":"sam"}');
      // Both pages have had both pushes delivered by now (a marker to
      // everybody comes after them on each connection).
      await pushed(srv, { to: { all: true }, event: 'marker', data: 1 }, 2);
      for (const page of [teacher, student]) await page.waitForSelector('#pushes li[data-event="marker"]', { timeout: WAIT_MS });
      assert.equal(await count(teacher, '#pushes li[data-event="lessonInvite"]'), 0);
      assert.equal(await count(student, '#pushes li[data-event="studentWaiting"]'), 0);
    });

    it("a push from the page's form reaches the student only", async () => {
      await teacher.fill('#credential', pushSecret);
      await teacher.selectOption('#target-kind', 'user');
      await teacher.fill('#target', 'sam');
      await teacher.fill('#event', 'fromForm');
      await teacher.fill('#data', '{"text": "Ready for fractions?"}');
      await teacher.click('#push');
      await waitText(teacher, '#push-result', mode.balanced ? '202 {"sockets":1,"complete":true}' : '202 {"sockets":1}');
      await waitText(student, '#pushes li[data-event="fromForm"] pre', '{"text":"Ready for fractions?"}');
      await pushed(srv, { to: { all: true }, event: 'marker', data: 2 }, 2);
      await teacher.waitForFunction(() => document.querySelectorAll('#pushes li[data-event="marker"]').length === 2, null, {
        timeout: WAIT_MS,
      });
      assert.equal(await count(teacher, '#pushes li[data-event="fromForm"]'), 0);

      // A wrong credential is shown as the server's answer.
      await teacher.fill('#credential', 'not-the-secret');
      await teacher.click('#push');
      await waitText(teacher, '#push-result', /^401 .*unauthorized/);
      await teacher.fill('#credential', pushSecret);
      await teacher.click('#push');
      await waitText(teacher, '#push-result', mode.balanced ? '202 {"sockets":1,"complete":true}' : '202 {"sockets":1}');
    });

    it('keeps a screenshot of the demo page', async () => {
      const file = path.join(artifacts, mode.shot);
      await teacher.screenshot({ path: file, fullPage: true });
      assert.ok(existsSync(file));
      await student.screenshot({ path: file.replace(/\.png$/, '-student.png'), fullPage: true });
    });

    it('the student leaves ready, then goes offline, and the teacher sees it', async () => {
      await student.uncheck('#ready');
      await waitText(student, '#my-ready', 'not ready');
      await teacher.waitForSelector('#ready-users li[data-user="sam"]', { state: 'detached', timeout: WAIT_MS });
      await student.click('#disconnect');
      await waitText(teacher, '#online-students', '0');
      await teacher.waitForSelector('#users li[data-user="sam"]', { state: 'detached', timeout: WAIT_MS });
    });

    it('ran without script errors', () => {
      assert.deepEqual(teacher.errors, []);
      assert.deepEqual(student.errors, []);
    });
  });
}

describe('demo page, two users on two nodes of a cluster', () => {
  let redis;
  const nodes = [];
  const contexts = [];
  let teacher;
  let student;

  async function open(srv, tok) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (err) => page.errors.push(err.message));
    await page.goto(`${srv.url}/`);
    await page.fill('#token', tok);
    await page.selectOption('#transports', 'polling,websocket');
    await page.click('#connect');
    await waitText(page, '#status', 'connected');
    return page;
  }

  before(async () => {
    redis = await startRedis();
    const config = { ...serverConfig(), cluster: { redis: redis.url } };
    nodes.push(await startServer(config), await startServer(config));
  });
  after(async () => {
    for (const c of contexts) await c.close();
    for (const n of nodes) assert.deepEqual(await n.stop(), { code: 0, signal: null }, n.logs());
    await redis?.close();
  });

  it('the teacher on one node and the student on the other see each other online', async () => {
    const [a, b] = nodes;
    teacher = await open(a, token(a, 'tina', 'teacher'));
    await waitText(teacher, '#online-teachers', '1');
    student = await open(b, token(b, 'sam', 'student'));
    await teacher.waitForSelector('#users li[data-user="sam"]', { timeout: WAIT_MS });
    await student.waitForSelector('#users li[data-user="tina"]', { timeout: WAIT_MS });
    for (const page of [teacher, student]) {
      await waitText(page, '#online-teachers', '1');
      await waitText(page, '#online-students', '1');
    }
  });

  it("the student's ready state crosses the nodes; pushes through either node arrive", async () => {
    const [a, b] = nodes;
    await student.fill('#topic', 'fractions');
    await student.check('#ready');
    await waitText(teacher, '#ready-users li[data-user="sam"]', /fractions/);
    assert.deepEqual(await push(a, { to: { user: 'sam' }, event: 'lessonInvite', data: { from: 'tina' } }), {
      sockets: 1,
      complete: true,
    });
    await waitText(student, '#pushes li[data-event="lessonInvite"] pre', '{"from":"tina"}');
    assert.deepEqual(await push(b, { to: { all: true }, event: 'marker', data: 1 }), { sockets: 2, complete: true });
    for (const page of [teacher, student]) await page.waitForSelector('#pushes li[data-event="marker"]', { timeout: WAIT_MS });
    assert.equal(await count(teacher, '#pushes li[data-event="lessonInvite"]'), 0);
    await teacher.screenshot({ path: path.join(artifacts, 'demo-cluster.png'), fullPage: true });
  });

  it('the student goes offline on its node and the teacher on the other sees it', async () => {
    await student.click('#disconnect');
    await waitText(teacher, '#online-students', '0');
    await teacher.waitForSelector('#users li[data-user="sam"]', { state: 'detached', timeout: WAIT_MS });
    assert.deepEqual(teacher.errors, []);
    assert.deepEqual(student.errors, []);
  });
});
