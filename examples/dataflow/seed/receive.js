#!/usr/bin/env node
// Receive: each instance reads one Binlog instance's stream (keyed by table, with as many
// instances as Binlog, so the same hash sends instance i's tables to instance i) and passes it on.
'use strict';
const { emit, readRecords, control } = require('./common.js');

const ctl = control();
let records = 0;
const binlogs = new Set();

readRecords(
  (record, paused) => {
    records++;
    binlogs.add(record.binlog.split(':')[0]);
    emit(record, paused);
  },
  () => ctl.finish({ records, fromBinlogs: [...binlogs].sort() }),
);
