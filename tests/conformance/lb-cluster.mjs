// Starts the topology of issue 16 for the official suites: haproxy (round
// robin, no stickiness) on 127.0.0.1:PORT in front of three daheim-live
// nodes with CONFIG plus a `cluster` section, on a redis-server of its own.
// PORT 0 (or none): a free port. Prints "listening on http://127.0.0.1:PORT"
// when ready; SIGTERM stops it all.
//
//   node tests/conformance/lb-cluster.mjs CONFIG PORT
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { startLbCluster } from '../e2e/lib/lb-cluster.mjs';

const [file, port] = process.argv.slice(2);
const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
const config = JSON.parse(text);
delete config.listen;
if (!('testHandler' in config)) config.testHandler = undefined; // not the e2e default
if (config.pluginDir) config.pluginDir = path.resolve(path.dirname(file), config.pluginDir);
const lb = await startLbCluster({ config, port: Number(port) || undefined }); // 0: a free one
process.stderr.write(`nodes: ${lb.nodes.map((n) => n.url).join(', ')}\n`);
process.stderr.write(`listening on ${lb.url}\n`);
const stop = async () => {
  await lb.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
