// TLS beside plain: daheim-live and the Node.js socket.io reference, each on
// a plain listener and on TLS listeners with an ECDSA P-256 and an RSA-2048
// certificate made here at run time (`openssl req`, in a temporary
// directory removed at the end; no key is kept).
//
// Per server process (fresh for each server and listener kind):
//   idle:  N Socket.IO connections over WebSocket (CONNECT acked), RSS per connection;
//   echo:  50 clients back-to-back `message-with-ack` for a few seconds: server
//          CPU per ack (/proc, user + system), latency p50 / p99 seen by the client;
//   handshakes (TLS only): full and resumed TLS handshakes, server CPU per
//          handshake and the handshakes per second one core would do at that cost.
//
//   node tls-bench.mjs --server build/core/app/daheim-live [--idle 2000] [--echo-seconds 4]
//                      [--handshakes 1500] [--only daheim,node] [--json out.json]
//   node tls-bench.mjs --from-json a.json,b.json   one table from earlier runs
// Prints a Markdown table per measure. Client and server share the machine:
// CPU per operation is the server's own, from /proc/PID/stat.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const serverBin = path.resolve(opt("server", path.join(here, "../../build/core/app/daheim-live")));
const idleCount = Number(opt("idle", 2000));
const echoSeconds = Number(opt("echo-seconds", 4));
const handshakeCount = Number(opt("handshakes", 1500));
const only = opt("only", "daheim,node").split(",");
const dir = mkdtempSync(path.join(tmpdir(), "daheim-tls-bench-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function makeCert(type) {
  const cert = path.join(dir, `${type}.pem`);
  const key = path.join(dir, `${type}.key`);
  const keyArgs =
    type === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  const r = spawnSync("openssl", ["req", "-x509", ...keyArgs, "-nodes", "-days", "1", "-subj", `/CN=${type}`,
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl req: ${r.stderr}`);
  return { cert, key };
}

const procStat = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8").slice(
  readFileSync(`/proc/${pid}/stat`, "utf8").lastIndexOf(")") + 2).split(" ");
const cpuSeconds = (pid) => {
  const f = procStat(pid);
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)[1]) * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(kind, cert) {
  let child;
  if (kind === "node") {
    const env = { ...process.env };
    if (cert) Object.assign(env, { BENCH_TLS_CERT: cert.cert, BENCH_TLS_KEY: cert.key });
    child = spawn("node", [path.join(here, "server.mjs"), "127.0.0.1", "0"], { env });
  } else {
    const listener = { listen: "127.0.0.1:0", ...(cert ? { tls: { cert: cert.cert, key: cert.key } } : {}) };
    const conf = path.join(dir, `conf-${Date.now()}.json`);
    writeFileSync(conf, JSON.stringify({
      log: { level: "notice" }, drainTime: 1000, listeners: [listener],
      engineio: { maxConnections: 60000 }, socketio: { namespaces: ["/"], eventsPerSecond: 0 },
      testHandler: "socketio-conformance",
    }));
    child = spawn(serverBin, ["--config", conf]);
  }
  let out = "";
  const port = await new Promise((resolve, reject) => {
    const on = (d) => {
      out += d;
      const m = out.match(/listening on https?:\/\/[^:\s]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.once("exit", (code) => reject(new Error(`${kind} exited ${code}: ${out}`)));
  });
  return { child, pid: child.pid, port, stop: () => new Promise((r) => { child.once("exit", r); child.kill("SIGTERM"); }) };
}

// A Socket.IO client on a raw WebSocket: resolves once CONNECT is acked.
function sioClient(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false });
    ws.on("error", reject);
    ws.on("message", (d) => {
      const s = d.toString();
      if (s === "2") ws.send("3");
      else if (s.startsWith("0{")) ws.send("40");
      else if (s.startsWith("40")) resolve(ws);
      else if (ws.onPacket) ws.onPacket(s);
    });
  });
}

async function openMany(url, n, parallel = 50) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      ++next;
      out.push(await sioClient(url));
    }
  }));
  return out;
}

async function idle(srv, url) {
  await openMany(url, 20).then((w) => w.forEach((x) => x.terminate()));
  await sleep(300);
  const r0 = rss(srv.pid);
  const conns = await openMany(url, idleCount);
  await sleep(1000);
  const r1 = rss(srv.pid);
  conns.forEach((c) => c.terminate());
  await sleep(500);
  return { idle_rss_per_conn: (r1 - r0) / idleCount };
}

async function echo(srv, url) {
  const clients = await openMany(url, 50);
  const lat = [];
  let acks = 0;
  let measuring = false;
  let stop = false;
  const loops = clients.map((ws) => new Promise((done) => {
    let id = 0;
    let sent = 0n;
    const send = () => {
      if (stop) return done();
      sent = process.hrtime.bigint();
      ws.send(`42${++id}["message-with-ack",{"n":${id},"text":"hello"}]`);
    };
    ws.onPacket = (s) => {
      if (!s.startsWith("43")) return;
      if (measuring) {
        ++acks;
        lat.push(Number(process.hrtime.bigint() - sent) / 1000);
      }
      send();
    };
    send();
  }));
  await sleep(500);
  measuring = true;
  const c0 = cpuSeconds(srv.pid);
  const t0 = Date.now();
  await sleep(echoSeconds * 1000);
  const c1 = cpuSeconds(srv.pid);
  const secs = (Date.now() - t0) / 1000;
  measuring = false;
  stop = true;
  await Promise.all(loops);
  clients.forEach((c) => c.terminate());
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { acks_per_s: acks / secs, cpu_us_per_ack: ((c1 - c0) * 1e6) / acks, p50_us: q(0.5), p99_us: q(0.99) };
}

function handshake(port, session) {
  return new Promise((resolve, reject) => {
    let got = null;
    const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, session });
    s.on("error", reject);
    // The first ticket ends it (isSessionReused() is null once destroyed);
    // a server that sends none is given 500 ms after the handshake.
    let reused = false;
    const end = (session) => {
      if (got !== null) return;
      got = session;
      s.destroy();
      resolve({ session, reused });
    };
    s.on("session", (x) => end(x));
    s.on("secureConnect", () => {
      reused = s.isSessionReused();
      setTimeout(() => end(undefined), 500);
    });
  });
}

async function handshakes(srv, resumed) {
  const parallel = 8;
  let next = 0;
  let reused = 0;
  const sessions = await Promise.all(Array.from({ length: parallel }, () => handshake(srv.port)));
  const c0 = cpuSeconds(srv.pid);
  const t0 = Date.now();
  await Promise.all(sessions.map(async (first) => {
    let session = first.session;
    while (next++ < handshakeCount) {
      const r = await handshake(srv.port, resumed ? session : undefined);
      if (r.reused) ++reused;
      if (r.session) session = r.session;
    }
  }));
  const cpu = cpuSeconds(srv.pid) - c0;
  const us = (cpu * 1e6) / handshakeCount;
  return { us, per_core_per_s: 1e6 / us, per_s: handshakeCount / ((Date.now() - t0) / 1000), reused };
}

// --from-json a.json,b.json: no measuring, one table from earlier runs' --json.
const fromJson = opt("from-json");
const certs = fromJson ? {} : { ec: makeCert("ec"), rsa: makeCert("rsa") };
let results = {};
let load0 = loadavg();
let load1;
if (fromJson) {
  const runs = fromJson.split(",").map((f) => JSON.parse(readFileSync(f, "utf8")));
  for (const r of runs) results = { ...results, ...r.results };
  [load0, load1] = [runs[0].load0, runs[runs.length - 1].load1];
}
for (const kind of fromJson ? [] : only)
  for (const mode of ["plain", "ec", "rsa"]) {
    const srv = await startServer(kind, mode === "plain" ? null : certs[mode]);
    const url = `${mode === "plain" ? "ws" : "wss"}://127.0.0.1:${srv.port}/socket.io/?EIO=4&transport=websocket`;
    const r = { ...(await idle(srv, url)), ...(await echo(srv, url)) };
    if (mode !== "plain") {
      r.full = await handshakes(srv, false);
      r.resumed = await handshakes(srv, true);
    }
    await srv.stop();
    results[`${kind}-${mode}`] = r;
    process.stderr.write(`${kind}-${mode}: ${JSON.stringify(r)}\n`);
  }
load1 ??= loadavg();

const f = (v, d = 3) => (v === undefined ? "–" : Number(v.toPrecision(d)).toLocaleString("en-US"));
const x = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "–");
const lines = [];
lines.push(`Load average before ${load0.map((v) => v.toFixed(2)).join(" ")}, after ${load1.map((v) => v.toFixed(2)).join(" ")}.`, "");
lines.push("| | daheim plain | daheim wss ECDSA | daheim wss RSA | Node plain | Node wss ECDSA | Node wss RSA |", "|---|---|---|---|---|---|---|");
const cols = ["daheim-plain", "daheim-ec", "daheim-rsa", "node-plain", "node-ec", "node-rsa"];
const row = (label, get) => lines.push(`| ${label} | ${cols.map((c) => (results[c] ? get(results[c]) : "–")).join(" | ")} |`);
row("echo, 50 clients: server CPU µs/ack", (r) => f(r.cpu_us_per_ack));
row("echo: acks/s", (r) => f(r.acks_per_s));
row("echo: latency p50 µs", (r) => f(r.p50_us));
row("echo: latency p99 µs", (r) => f(r.p99_us));
row(`idle (${idleCount}): RSS per connection, B`, (r) => f(r.idle_rss_per_conn, 4));
row("full handshake: server CPU µs", (r) => f(r.full?.us));
row("full handshakes/s per core", (r) => f(r.full?.per_core_per_s));
row("resumed handshake: server CPU µs", (r) => f(r.resumed?.us));
row("resumed handshakes/s per core", (r) => f(r.resumed?.per_core_per_s));
row(`resumed / attempted`, (r) => (r.resumed ? `${r.resumed.reused} / ${handshakeCount}` : "–"));
lines.push("", "| ratio | daheim wss ECDSA ÷ plain | daheim wss RSA ÷ plain | Node wss ECDSA ÷ plain | Node ÷ daheim, wss ECDSA |", "|---|---|---|---|---|");
const d = results;
const ratioRow = (label, k) => lines.push(`| ${label} | ${x(d["daheim-ec"]?.[k], d["daheim-plain"]?.[k])} | ${x(d["daheim-rsa"]?.[k], d["daheim-plain"]?.[k])} | ${x(d["node-ec"]?.[k], d["node-plain"]?.[k])} | ${x(d["node-ec"]?.[k], d["daheim-ec"]?.[k])} |`);
ratioRow("echo CPU per ack", "cpu_us_per_ack");
ratioRow("echo p99", "p99_us");
ratioRow("idle RSS per connection", "idle_rss_per_conn");
lines.push(`| full handshake CPU, Node ÷ daheim | ECDSA ${x(d["node-ec"]?.full?.us, d["daheim-ec"]?.full?.us)} | RSA ${x(d["node-rsa"]?.full?.us, d["daheim-rsa"]?.full?.us)} | resumed ECDSA ${x(d["node-ec"]?.resumed?.us, d["daheim-ec"]?.resumed?.us)} | |`);
console.log(lines.join("\n"));
const jsonOut = opt("json");
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ load0, load1, results }, null, 2));
