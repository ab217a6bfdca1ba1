#!/usr/bin/env node
// Producer: emits COUNT data records at RATE a second, as the seed's upstream database would its
// changes. Instance p owns the tables t<i> with i % TM_PARALLELISM == p; every DDL_EVERY records it
// alters one of them (a DDL record, its version bumped), and data records carry the version they
// were written under. Data records have a `shard` (the Syncer's key); DDL records have none, so
// each DDL reaches every Syncer instance. Result on fd 3: {count, checksum} of its data records.
'use strict';
const { Checksum, emit, control, envInt } = require('./common.js');

const me = envInt('TM_INSTANCE', 0);
const producers = envInt('TM_PARALLELISM', 1);
const count = envInt('COUNT', 10000);
const rate = envInt('RATE', 2000);
const ddlEvery = envInt('DDL_EVERY', 2500);
const shards = envInt('SHARDS', 16);
const tables = [];
for (let i = me; i < envInt('TABLES', 6); i += producers) tables.push(`t${i}`);
if (tables.length === 0) tables.push(`t${me}`);

const ctl = control();
const sum = new Checksum();
const versions = Object.fromEntries(tables.map((t) => [t, 0]));
const TICK_MS = 50;
const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
let n = 0;
let ddls = 0;

function ddl(table) {
  const v = ++versions[table];
  ddls++;
  const stmt = `ALTER TABLE ${table} ADD COLUMN c${v} INT`;
  emit({ id: `ddl-${table}-${v}`, table, ddlVersion: v, ddl: true, stmt, producedAt: Date.now() });
  process.stderr.write(`${stmt} (version ${v}) after ${n} records\n`);
}

function tick() {
  const started = Date.now();
  let full = false;
  for (let i = 0; i < perTick && n < count; i++, n++) {
    if (n > 0 && n % ddlEvery === 0) ddl(tables[(n / ddlEvery) % tables.length]);
    const table = tables[n % tables.length];
    const id = `p${me}-${n}`;
    sum.add(id);
    const record = { id, table, shard: n % shards, ddlVersion: versions[table], ddl: false };
    emit({ ...record, producedAt: Date.now(), amount: (n * 37) % 1000 }, () => (full = true));
  }
  if (n >= count) return done();
  const next = () => setTimeout(tick, Math.max(0, TICK_MS - (Date.now() - started)));
  if (full) process.stdout.once('drain', next);
  else next();
}

function done() {
  process.stderr.write(`done: ${sum.count} records, ${ddls} DDLs on ${tables.join(', ')}\n`);
  ctl.finish({ ...sum.toJSON(), ddls, tables });
}

process.stderr.write(`${count} records at ${rate}/s into ${tables.join(', ')}\n`);
tick();
