/**
 * A map task's memory is bounded by its batches and groups, not by its input: the agents' map
 * executor over 250k and over 2M rows of Parquet holds about as much at its most. Measured in a
 * child process with `--expose-gc`, after a collection at every batch (no timing is asserted).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../support/map-memory.ts', import.meta.url));
const MiB = 1024 * 1024;

interface Held {
  rows: number;
  batches: number;
  peak: number;
  seen: number[];
}

function mapMemory(rows: number): Held {
  const output = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', SCRIPT, String(rows)],
    { encoding: 'utf8' },
  );
  return JSON.parse(output) as Held;
}

describe('a map task', () => {
  it('holds about as much over 2M rows as over 250k', { timeout: 120_000 }, () => {
    const small = mapMemory(250_000);
    const large = mapMemory(2_000_000);
    expect(large.batches).toBeGreaterThan(4 * small.batches);
    // The used columns of 2M rows decode to 32 MB: a map that kept its batches holds that much
    // (35 MB, measured with the batches kept), one that does not holds a few row groups' worth.
    expect(large.peak, JSON.stringify(large.seen)).toBeLessThan(small.peak + 4 * MiB);
    expect(large.peak).toBeLessThan(16 * MiB);
  });
});
