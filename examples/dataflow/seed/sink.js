#!/usr/bin/env node
// Sink: writes every record it gets to out/sink-<instance>.jsonl (beside this script, started
// afresh by each run), noting when it arrived. At the end its result on fd 3 holds the count and
// checksum of the data records (as the producers compute them), duplicates, DDLs, records a
// second and the latency from production to the sink (p50, p95, max).
'use strict';
const fs = require('fs');
const path = require('path');
const { Checksum, readRecords, control } = require('./common.js');

const me = process.env.TM_INSTANCE || '0';
const ctl = control();
const dir = path.join(__dirname, 'out');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `sink-${me}.jsonl`);
const out = fs.openSync(file, 'w');
const sum = new Checksum();
const seen = new Set();
const latencies = [];
let pending = [];
let dupes = 0;
let ddls = 0;
let firstProduced = Infinity;
let lastArrived = 0;

function flush() {
  if (pending.length > 0) fs.writeSync(out, pending.join(''));
  pending = [];
}

const progress = setInterval(() => {
  const latest = latencies.length ? `, latest latency ${latencies[latencies.length - 1]} ms` : '';
  process.stderr.write(`${sum.count} records, ${ddls} DDLs${latest}\n`);
}, 1000);

readRecords(
  (record) => {
    const arrived = Date.now();
    pending.push(JSON.stringify({ ...record, sinkAt: arrived }) + '\n');
    if (pending.length >= 1000) flush();
    if (record.ddl) return void ddls++;
    if (seen.has(record.id)) dupes++;
    seen.add(record.id);
    sum.add(record.id);
    latencies.push(arrived - record.producedAt);
    firstProduced = Math.min(firstProduced, record.producedAt);
    lastArrived = arrived;
  },
  () => {
    clearInterval(progress);
    flush();
    fs.closeSync(out);
    const sorted = Float64Array.from(latencies).sort();
    const at = (q) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
    const seconds = sorted.length ? (lastArrived - firstProduced) / 1000 : 0;
    const result = {
      ...sum.toJSON(),
      dupes,
      ddls,
      latencyMs: { p50: at(0.5), p95: at(0.95), max: at(1) },
      seconds,
      recordsPerSecond: seconds > 0 ? Math.round(sum.count / seconds) : 0,
      file,
    };
    process.stderr.write(`done: ${JSON.stringify(result)}\n`);
    ctl.finish(result);
  },
);
