// /metrics for the end-to-end tests: the exposition checked strictly against
// the Prometheus text format 0.0.4, then read with the npm parser
// (parse-prometheus-text-format) for families, types, counters and gauges,
// and as raw samples for histogram series (that parser merges the series of
// a labelled histogram into one and drops their labels, _sum and _count).

import assert from 'node:assert/strict';
import parsePrometheus from 'parse-prometheus-text-format';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

// {a="x",b="y\"z"} -> [{a: 'x', b: 'y"z'}, length consumed]
function parseLabels(line, at) {
  const labels = {};
  let i = at + 1;
  while (line[i] !== '}') {
    const eq = line.indexOf('=', i);
    assert.ok(eq > i, `label without "=": ${line}`);
    const name = line.slice(i, eq);
    assert.match(name, LABEL_NAME, `label name in: ${line}`);
    assert.equal(line[eq + 1], '"', `unquoted label value in: ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < line.length && line[j] !== '"'; j++) {
      if (line[j] !== '\\') {
        value += line[j];
        continue;
      }
      const next = line[++j];
      assert.ok(next === '\\' || next === '"' || next === 'n', `bad escape in: ${line}`);
      value += next === 'n' ? '\n' : next;
    }
    assert.ok(j < line.length, `unterminated label value in: ${line}`);
    assert.equal(labels[name], undefined, `label ${name} twice in: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') i++;
  }
  return [labels, i + 1 - at];
}

function parseSample(line) {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  const nameEnd = brace >= 0 && brace < space ? brace : space;
  const name = line.slice(0, nameEnd);
  assert.match(name, NAME, `metric name in: ${line}`);
  let labels = {};
  let rest = line.slice(nameEnd);
  if (rest.startsWith('{')) {
    const [l, n] = parseLabels(line, nameEnd);
    labels = l;
    rest = line.slice(nameEnd + n);
  }
  const parts = rest.trim().split(' ');
  assert.ok(rest.startsWith(' ') && parts.length <= 2, `sample syntax: ${line}`);
  assert.match(parts[0], VALUE, `sample value in: ${line}`);
  return { name, labels, value: Number(parts[0].replace('Inf', 'Infinity')) };
}

function familyOf(sampleName, types) {
  if (types.has(sampleName)) return sampleName;
  const m = /^(.*)_(bucket|sum|count)$/.exec(sampleName);
  if (m && ['histogram', 'summary'].includes(types.get(m[1]))) return m[1];
  return sampleName;
}

const seriesKey = (labels) =>
  JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());

// Each histogram series: `le` ascending, counts cumulative, +Inf last and
// equal to _count; _sum present.
function checkHistogram(name, samples) {
  const series = new Map();
  for (const s of samples) {
    const key = seriesKey(s.labels);
    if (!series.has(key)) series.set(key, { buckets: [], sum: undefined, count: undefined });
    const h = series.get(key);
    if (s.name === `${name}_bucket`) h.buckets.push([Number(s.labels.le.replace('Inf', 'Infinity')), s.value]);
    else if (s.name === `${name}_sum`) h.sum = s.value;
    else if (s.name === `${name}_count`) h.count = s.value;
    else assert.fail(`${s.name} in histogram ${name}`);
  }
  for (const [key, h] of series) {
    assert.ok(h.buckets.length > 0 && h.sum !== undefined && h.count !== undefined, `${name} ${key} complete`);
    for (let i = 1; i < h.buckets.length; i++) {
      assert.ok(h.buckets[i][0] > h.buckets[i - 1][0], `${name} ${key}: le ascending`);
      assert.ok(h.buckets[i][1] >= h.buckets[i - 1][1], `${name} ${key}: buckets cumulative`);
    }
    assert.equal(h.buckets.at(-1)[0], Infinity, `${name} ${key}: +Inf bucket last`);
    assert.equal(h.buckets.at(-1)[1], h.count, `${name} ${key}: +Inf bucket equals _count`);
  }
}

// Checks `text` and returns its samples [{ name, labels, value }].
export function checkExposition(text) {
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  const helps = new Set();
  const types = new Map();
  const done = new Set(); // families whose block has ended
  const samples = [];
  let current = null;
  const enter = (family) => {
    if (family === current) return;
    assert.ok(!done.has(family), `family ${family} is split in two blocks`);
    if (current) done.add(current);
    current = family;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      assert.match(name, NAME, `family name in: ${line}`);
      enter(name);
      if (kind === 'HELP') {
        assert.ok(!helps.has(name), `HELP ${name} once`);
        helps.add(name);
      } else {
        assert.ok(!types.has(name), `TYPE ${name} once`);
        assert.ok(TYPES.has(rest), `TYPE ${name}: ${rest}`);
        assert.ok(!samples.some((s) => familyOf(s.name, types) === name), `TYPE ${name} before its samples`);
        types.set(name, rest);
      }
      continue;
    }
    assert.ok(!line.startsWith('#') || line.startsWith('# '), `comment syntax: ${line}`);
    if (line.startsWith('#') || line === '') continue;
    const s = parseSample(line);
    enter(familyOf(s.name, types));
    samples.push(s);
  }
  for (const [name, type] of types) {
    if (type === 'histogram') checkHistogram(name, samples.filter((s) => familyOf(s.name, types) === name));
  }
  return samples;
}

const matches = (labels, want) => Object.entries(want).every(([k, v]) => labels[k] === v);

// GET /metrics, checked and parsed. value(name, labels) reads a counter or
// gauge sample (through the npm parser); histogram(name, labels) one series
// as { buckets: Map(le -> cumulative count), sum, count }.
export async function scrape(url) {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples = checkExposition(text);
  const families = Object.fromEntries(parsePrometheus(text).map((f) => [f.name, f]));
  const value = (name, labels = {}) => {
    const f = families[name];
    assert.ok(f, `metric ${name} present`);
    const found = f.metrics.filter((x) => matches(x.labels ?? {}, labels));
    assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)}`);
    return Number(found[0].value);
  };
  const histogram = (name, labels = {}) => {
    const own = samples.filter((s) => s.name.startsWith(`${name}_`) && matches(s.labels, labels));
    const buckets = new Map();
    for (const s of own.filter((x) => x.name === `${name}_bucket`)) buckets.set(s.labels.le, s.value);
    const one = (suffix) => {
      const found = own.filter((x) => x.name === `${name}_${suffix}`);
      assert.equal(found.length, 1, `one ${name}_${suffix} ${JSON.stringify(labels)}`);
      return found[0].value;
    };
    return { buckets, sum: one('sum'), count: one('count') };
  };
  return { text, families, samples, value, histogram };
}
