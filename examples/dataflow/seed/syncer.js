#!/usr/bin/env node
// Syncer: applies the changes to the target. A DDL waits at a barrier (`barrier ddl-<table>-<v>`
// on fd 3) until every Syncer instance has reached the same DDL: only then is the new schema in
// force everywhere. While a table waits, its records are held back in order; other tables' records
// flow on, so syncers that meet DDLs of different tables in different orders never block each
// other.
// Data records go on to the sink; each DDL once (from instance 0). Result: what it applied.
'use strict';
const { emit, readRecords, control } = require('./common.js');

const me = Number(process.env.TM_INSTANCE);
const ctl = control();
const applied = {}; // table -> schema version in force here
const held = new Map(); // table -> records waiting behind its DDL's barrier
let records = 0;
let ddls = 0;
let mismatches = 0; // data written under a schema version this syncer had not applied
let waitedMs = 0;
let inputDone = false;
let pause = undefined;

function take(record) {
  const queue = held.get(record.table);
  if (queue) queue.push(record);
  else if (record.ddl) startDdl(record);
  else {
    records++;
    if (record.ddlVersion !== (applied[record.table] || 0)) mismatches++;
    emit(record, pause);
  }
}

function startDdl(record) {
  held.set(record.table, []);
  const name = `ddl-${record.table}-${record.ddlVersion}`;
  const arrived = Date.now();
  ctl.barrier(name).then(() => {
    const waited = Date.now() - arrived;
    waitedMs += waited;
    ddls++;
    applied[record.table] = record.ddlVersion;
    process.stderr.write(`${record.stmt}: barrier ${name} passed after ${waited} ms\n`);
    if (me === 0) emit(record, pause);
    const queue = held.get(record.table);
    held.delete(record.table);
    for (const next of queue) take(next); // a later DDL of the table holds the rest again
    finishIfDone();
  });
}

function finishIfDone() {
  if (!inputDone || held.size > 0) return;
  ctl.finish({ records, ddls, mismatches, barrierWaitMs: waitedMs, schema: applied });
}

readRecords(
  (record, paused) => {
    pause = paused;
    take(record);
  },
  () => {
    inputDone = true;
    finishIfDone();
  },
);
