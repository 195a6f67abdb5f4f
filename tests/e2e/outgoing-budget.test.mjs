// End-to-end: engineio.maxBufferedBytesTotal, the server-wide budget for
// bytes queued to clients (issue 17). Three clients stop reading one after
// the other, so that their queues differ; broadcasts push the sum over the
// budget and the server drops the one with the largest queue first, then the
// next. A reader and the sender beside them get every broadcast.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import WebSocket from 'ws';

import { Recorder, WS, connected, io } from './lib/sio.mjs';
import { scrape } from './lib/metrics.mjs';
import { pluginsDir, startServer } from './lib/server.mjs';
import { withTimeout } from './lib/util.mjs';

const MiB = 1 << 20;
const BUDGET = 12 * MiB;

// A raw Socket.IO client over WebSocket that joins "/" and can stop reading.
async function rawClient(url) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  let sid;
  await withTimeout(
    new Promise((resolve) => {
      ws.on('message', (d) => {
        const s = d.toString();
        if (s.startsWith('0')) {
          sid = JSON.parse(s.slice(1)).sid;
          ws.send('40');
        }
        if (s.startsWith('40{')) resolve();
      });
    }),
    5000,
    'raw client joins /',
  );
  return { ws, sid, stopReading: () => ws._socket.pause() };
}

describe('limits: engineio.maxBufferedBytesTotal', () => {
  let srv;
  before(async () => {
    srv = await startServer({
      testHandler: undefined,
      pluginDir: path.join(pluginsDir, 'test'),
      plugins: [{ path: 'alpha.so' }, { path: 'beta.so' }],
      // One client alone never passes its own limit: only the sum does.
      engineio: { maxBufferedBytes: 256 * MiB, maxBufferedBytesTotal: BUDGET, maxPayload: 200000 },
      socketio: { eventsPerSecond: 0 },
    });
  });
  after(async () => {
    if (srv) assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.logs());
  });

  it('drops the slowest clients first; a reader and the sender are unaffected', async () => {
    const sender = io(srv.url, { forceNew: true, reconnection: false, transports: WS });
    const senderRec = new Recorder(sender);
    await connected(sender);
    await senderRec.next('welcome');
    const reader = io(srv.url, { forceNew: true, reconnection: false, transports: WS });
    let news = 0;
    reader.on('beta-news', () => news++);
    await connected(reader);
    const slow = [await rawClient(srv.url), await rawClient(srv.url), await rawClient(srv.url)];

    const payload = 'n'.repeat(64 * 1024);
    let sent = 0;
    const broadcast = async () => {
      assert.equal(await withTimeout(sender.emitWithAck('broadcast', payload), 10000, 'broadcast'), true);
      sent++;
    };
    const metrics = async () => {
      const m = await scrape(srv.url);
      return { queued: m.value('daheim_engineio_buffered_bytes'), drops: m.value('daheim_limit_refusals_total', { limit: 'engineio.maxBufferedBytesTotal' }) };
    };
    // Each client stops reading once the ones before it have megabytes
    // queued: their queues differ by that much, the first one's the largest.
    const steps = [2 * MiB, 5 * MiB, 9 * MiB];
    for (let i = 0; i < slow.length; i++) {
      slow[i].stopReading();
      for (let n = 0; (await metrics()).queued < steps[i]; n++) {
        assert.ok(n < 2000, `client ${i}: queue did not grow after ${n} broadcasts`);
        await broadcast();
      }
      assert.equal((await metrics()).drops, 0, 'below the budget nothing is dropped');
    }
    // On to the budget: the largest queue goes first, then the next.
    for (let n = 0; (await metrics()).drops < 2; n++) {
      assert.ok(n < 2000, 'two clients dropped');
      await broadcast();
    }
    const [first, second] = [0, 1].map((i) => srv.waitForLog(new RegExp(`engine\\.io session ${slow[i].sid} \\S+ dropped: \\d+ bytes queued, the largest`)));
    const [a, b] = await Promise.all([first, second]);
    assert.ok(a.index < b.index, 'the client that stopped reading first is dropped first');
    assert.doesNotMatch(srv.logs(), new RegExp(`session ${slow[2].sid} .*dropped`), 'the least behind is kept');
    const { queued, drops } = await metrics();
    assert.equal(drops, 2);
    assert.ok(queued <= BUDGET, `${queued} bytes queued after the drops`);
    console.log(`${sent} broadcasts of 64 KiB; two slowest dropped; ${(queued / MiB).toFixed(1)} MiB still queued`);

    // The reader got every broadcast; the sender is still served.
    for (let i = 0; news < sent; i++) {
      assert.ok(i < 1000, `reader got ${news} of ${sent}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(news, sent);
    assert.equal(await withTimeout(sender.emitWithAck('add', 2, 3), 5000, 'add'), 5);
    for (const c of slow) c.ws.terminate();
    sender.disconnect();
    reader.disconnect();
  });
});
