// The Node.js reference server for the benchmarks: socket.io 4.8 in one
// process, with the events the C++ server's test handlers answer:
//   message-with-ack ...args  -> ack(...args)          (socketio-conformance)
//   message ...args           -> emit message-back ...args
//   broadcast {event} ...args -> io.emit(event, ...args), ack([[true]]) if asked
//                                (the `broadcast` command of socketio-e2e)
// and, on connection, emits `auth` with the CONNECT payload as they do.
//
//   node server.mjs HOST PORT     prints "listening on http://HOST:PORT" when ready
// With BENCH_TLS_CERT and BENCH_TLS_KEY (PEM files) it serves https/wss
// instead (Node's defaults: session tickets on) and prints https://.
// With BENCH_REDIS_URL (redis://host:port) it is one node of a cluster:
// @socket.io/redis-adapter 8.3 (createAdapter, the pubsub adapter) over node
// redis 4, so io.emit reaches the clients of every node.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { Server } from "socket.io";

// The redis adapter, when BENCH_REDIS_URL names a Redis (cluster mode).
async function redisAdapter(url) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  return createAdapter(pub, sub);
}

const host = process.argv[2] ?? "127.0.0.1";
const port = Number(process.argv[3] ?? 3000);

const tls = process.env.BENCH_TLS_CERT
  ? { cert: readFileSync(process.env.BENCH_TLS_CERT), key: readFileSync(process.env.BENCH_TLS_KEY) }
  : null;
const httpServer = tls ? createTlsServer(tls) : createServer();
// Default socket.io options (polling + websocket, no per-message deflate).
const redisUrl = process.env.BENCH_REDIS_URL;
const io = new Server(httpServer, {
  serveClient: false,
  ...(redisUrl ? { adapter: await redisAdapter(redisUrl) } : {}),
});

io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("broadcast", (spec, ...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    io.emit(spec.event, ...args);
    if (ack) ack([true]);
  });
});

// The listen backlog of the C++ server (lws: SOMAXCONN), not Node's 511.
httpServer.listen({ host, port, backlog: 4096 }, () => {
  const a = httpServer.address();
  console.log(`listening on ${tls ? "https" : "http"}://${a.address}:${a.port}`);
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
