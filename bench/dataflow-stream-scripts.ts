/**
 * The stream benchmark's three programs, as Node scripts run with `node -e` (the same text on
 * the agents and in the shell pipeline it is compared with). Each reads and writes chunks, never
 * lines one by one, so that what is measured is the data plane rather than a script's per-line
 * work; each reports on fd 3 (`result JSON`) what the benchmark needs.
 *
 * A record is ~80 bytes of JSON: {"id":N,"p":PRODUCER,"k":"kN%16","t":MS,"v":"x…"}, t being when
 * its batch was made.
 */

/**
 * Writes COUNT records in batches of 800, flat out, or at RATE records/s when RATE is set;
 * reports when its first record was made.
 */
export const PRODUCER = `
const fs = require('fs');
const count = Number(process.env.COUNT), rate = Number(process.env.RATE || 0);
const me = process.env.TM_INSTANCE || '0';
const BATCH = 800, pad = 'x'.repeat(24);
const first = Date.now();
fs.writeSync(3, 'result ' + JSON.stringify({ role: 'producer', first, count }) + '\\n');
let n = 0;
function batch() {
  const t = Date.now(), end = Math.min(count, n + BATCH);
  let s = '';
  for (; n < end; n++) s += '{"id":' + n + ',"p":' + me + ',"k":"k' + (n % 16) + '","t":' + t + ',"v":"' + pad + '"}\\n';
  return s;
}
function more() {
  while (n < count) {
    const ok = process.stdout.write(batch());
    if (rate) return setTimeout(more, Math.max(0, first + (n * 1000) / rate - Date.now()));
    if (!ok) return process.stdout.once('drain', more);
  }
}
more();
`;

/** Passes whole lines on untouched, a chunk at a time, and reports how many it passed. */
export const RELAY = `
const fs = require('fs');
let rest = null, count = 0;
process.stdin.on('data', (chunk) => {
  const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
  const last = buf.lastIndexOf(10);
  if (last < 0) { rest = buf; return; }
  rest = last + 1 < buf.length ? Buffer.from(buf.subarray(last + 1)) : null;
  const out = buf.subarray(0, last + 1);
  for (let i = out.indexOf(10); i >= 0; i = out.indexOf(10, i + 1)) count++;
  if (!process.stdout.write(out)) {
    process.stdin.pause();
    process.stdout.once('drain', () => process.stdin.resume());
  }
});
process.stdin.on('end', () => {
  if (rest) { process.stdout.write(rest); count++; }
  fs.writeSync(3, 'result ' + JSON.stringify({ role: 'relay', count }) + '\\n');
});
`;

/**
 * Counts records (every one ends with a newline), notes when the first and last arrived, and
 * takes one latency sample per chunk (now − t of its first whole record).
 */
export const SINK = `
const fs = require('fs');
let count = 0, first = 0, last = 0;
const samples = [];
process.stdin.on('data', (chunk) => {
  const now = Date.now();
  if (!first) first = now;
  last = now;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) count++;
  const a = chunk.indexOf(10), b = a < 0 ? -1 : chunk.indexOf(10, a + 1);
  if (b > a + 1) {
    try { samples.push(now - JSON.parse(chunk.subarray(a + 1, b).toString()).t); } catch {}
  }
});
process.stdin.on('end', () => {
  samples.sort((x, y) => x - y);
  const at = (p) => samples.length ? samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)] : null;
  const result = { role: 'sink', count, first, last, p50: at(0.5), p95: at(0.95), max: at(1), samples: samples.length };
  fs.writeSync(3, 'result ' + JSON.stringify(result) + '\\n');
});
`;

export interface ProducerResult {
  role: 'producer';
  first: number;
  count: number;
}
export interface RelayResult {
  role: 'relay';
  count: number;
}
export interface SinkResult {
  role: 'sink';
  count: number;
  first: number;
  last: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
  samples: number;
}
export type ScriptResult = ProducerResult | RelayResult | SinkResult;
