// Helpers shared by the seed's stand-in stages (CommonJS, no dependencies): the record checksum,
// a line reader that respects backpressure, and the control channel on fd 3.
'use strict';
const net = require('net');
const readline = require('readline');

/** FNV-1a, 32 bits: a stable hash of a record id. */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * An order-independent checksum of data records: the sum of each id's hash, mod 2^32. Producers
 * and the sink compute it the same way, so equal sums (and counts) mean the same set of records.
 */
class Checksum {
  constructor() {
    this.count = 0;
    this.sum = 0;
  }
  add(id) {
    this.count++;
    this.sum = (this.sum + fnv1a(id)) % 0x100000000;
  }
  toJSON() {
    return { count: this.count, checksum: this.sum };
  }
}

/** Writes a record as a JSON line on stdout; calls `paused` with a resume callback when full. */
function emit(record, paused) {
  if (!process.stdout.write(JSON.stringify(record) + '\n') && paused) {
    paused();
  }
}

/**
 * Calls `onRecord(record)` for each JSON line on stdin (from every upstream instance), then
 * `onEnd()` once stdin ends. Reading pauses while stdout is full, so a slow consumer slows us.
 */
function readRecords(onRecord, onEnd) {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let waiting = false;
  const pause = () => {
    if (waiting) return;
    waiting = true;
    rl.pause();
    process.stdout.once('drain', () => {
      waiting = false;
      rl.resume();
    });
  };
  rl.on('line', (line) => {
    if (line.trim() !== '') onRecord(JSON.parse(line), pause);
  });
  rl.on('close', onEnd);
}

/**
 * The stream task's control channel (fd 3): `barrier(name)` resolves when every instance of this
 * stage has reached `name` (the agent answers `go NAME`); `finish(result)` sets the task's result
 * and closes the channel. Several barriers may wait at once; each answer names its own.
 */
function control() {
  const channel = new net.Socket({ fd: 3, readable: true, writable: true });
  const waiting = new Map();
  let buffered = '';
  channel.setEncoding('utf8');
  channel.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      const name = line.startsWith('go ') ? line.slice(3) : '';
      const release = waiting.get(name);
      waiting.delete(name);
      if (release) release();
    }
  });
  channel.on('error', (error) => {
    process.stderr.write(`fd 3: ${error.message}\n`);
    process.exit(1);
  });
  return {
    barrier(name) {
      return new Promise((resolve) => {
        waiting.set(name, resolve);
        channel.write(`barrier ${name}\n`);
      });
    },
    finish(result) {
      channel.write(`result ${JSON.stringify(result)}\n`, () => channel.destroy());
    },
  };
}

/** A whole number from the environment, or `fallback`. */
function envInt(name, fallback) {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && process.env[name] !== '' ? Math.floor(value) : fallback;
}

module.exports = { fnv1a, Checksum, emit, readRecords, control, envInt };
