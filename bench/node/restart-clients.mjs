// One worker of bench/node/restart-storm.mjs: COUNT socket.io-clients
// (WebSocket only, socket.io-client's default reconnection backoff) to URL,
// each checking that the numbered events `e` come once and in order. Reports
// its counts to the parent (IPC) every 200 ms.
//
//   (forked by restart-storm.mjs) restart-clients.mjs URL COUNT
import { io } from 'socket.io-client';

const [url, countArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const clients = [];

function open(i) {
  const socket = io(url, { forceNew: true, transports: ['websocket'] });
  const c = { socket, last: 0, connects: 0, recovered: 0, fresh: 0, gaps: 0, dups: 0, backAt: 0 };
  socket.on('e', (n) => {
    if (n <= c.last) c.dups += 1;
    else if (n !== c.last + 1) c.gaps += n - c.last - 1; // connected before the first
    if (n > c.last) c.last = n;
  });
  socket.on('connect', () => {
    c.connects += 1;
    if (c.connects === 1) return;
    if (socket.recovered) c.recovered += 1;
    else c.fresh += 1;
    c.backAt = Date.now();
  });
  clients[i] = c;
  return new Promise((resolve) => socket.once('connect', resolve));
}

for (let i = 0; i < COUNT; i += 100) {
  const batch = [];
  for (let k = i; k < Math.min(COUNT, i + 100); ++k) batch.push(open(k));
  await Promise.all(batch);
}

function report() {
  const r = { connected: 0, back: 0, recovered: 0, fresh: 0, gaps: 0, dups: 0, minLast: Infinity,
    maxLast: 0, firstLastSeen: Infinity, lastBackAt: 0, firstBackAt: Infinity };
  for (const c of clients) {
    if (c.socket.connected) r.connected += 1;
    if (c.connects > 1) r.back += 1;
    r.recovered += c.recovered;
    r.fresh += c.fresh;
    r.gaps += c.gaps;
    r.dups += c.dups;
    r.minLast = Math.min(r.minLast, c.last);
    r.maxLast = Math.max(r.maxLast, c.last);
    if (c.backAt) {
      r.lastBackAt = Math.max(r.lastBackAt, c.backAt);
      r.firstBackAt = Math.min(r.firstBackAt, c.backAt);
    }
  }
  if (process.connected) process.send(r);
}
process.on('disconnect', () => process.exit(0));
setInterval(report, 200);
report();
process.on('message', (m) => {
  if (m !== 'close') return;
  for (const c of clients) {
    c.socket.io.reconnection(false);
    c.socket.disconnect();
  }
  process.exit(0);
});
