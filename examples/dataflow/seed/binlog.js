#!/usr/bin/env node
// Binlog: reads the producers' changes (keyed by table, so one table's changes stay in order at
// one instance) and serves them onward, each stamped with its binlog position.
'use strict';
const { emit, readRecords, control } = require('./common.js');

const me = process.env.TM_INSTANCE;
const ctl = control();
let pos = 0;
let ddls = 0;

readRecords(
  (record, paused) => {
    pos++;
    if (record.ddl) ddls++;
    emit({ ...record, binlog: `${me}:${pos}` }, paused);
  },
  () => ctl.finish({ records: pos, ddls }),
);
