// What connection-state recovery's log costs: one receiver in a room, a
// sender broadcasting N numbered events to it (500 per batch, one ack per
// batch), with recovery on or off; prints server CPU per event, the RSS the
// run added and the log's encoded bytes.
//
//   node bench/node/recovery-log.mjs 50000 on
//   node bench/node/recovery-log.mjs 50000 off
import { readFileSync } from 'node:fs';
import { io } from 'socket.io-client';
import { cpuSeconds, startServer } from '../../tests/e2e/lib/server.mjs';

const N = Number(process.argv[2] || 50000);
const on = process.argv[3] === 'on';
const srv = await startServer({
  testHandler: 'socketio-e2e',
  socketio: on ? { connectionStateRecovery: { maxLogPackets: 1000000 } } : {},
});
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${srv.pid}/status`, 'utf8'))[1]);
const connect = (url) =>
  new Promise((resolve) => {
    const s = io(url, { transports: ['websocket'], forceNew: true });
    s.on('connect', () => resolve(s));
  });

const rx = await connect(srv.url);
const tx = await connect(srv.url);
await rx.emitWithAck('join', ['room']);
let got = 0;
rx.on('n', () => {
  got += 1;
});
const rss0 = rssKb();
const cpu0 = cpuSeconds(srv.pid);
for (let i = 0; i < N; i += 500) {
  for (let j = 0; j < 500; j++)
    tx.emit('broadcast', { event: 'n', rooms: ['room'], args: [i + j, 'a payload of some forty bytes xxxxxxxxx'] });
  await tx.emitWithAck('whoami');
}
while (got < N) await new Promise((resolve) => setTimeout(resolve, 10));
const cpu = cpuSeconds(srv.pid) - cpu0;
const rss1 = rssKb();
const metrics = await (await fetch(`${srv.url}/metrics`)).text();
const logBytes = /daheim_recovery_log_bytes (\d+)/.exec(metrics);
console.log(
  JSON.stringify({
    recovery: on,
    events: N,
    server_cpu_us_per_event: Number(((cpu * 1e6) / N).toFixed(2)),
    rss_added_bytes_per_event: Math.round(((rss1 - rss0) * 1024) / N),
    log_bytes_per_event: logBytes ? Math.round(Number(logBytes[1]) / N) : 0,
  }),
);
rx.close();
tx.close();
await srv.stop();
