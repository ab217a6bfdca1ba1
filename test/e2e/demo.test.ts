/**
 * End to end: `tm demo`, the README's first command after `npm ci`, as a user runs it: the local
 * stack on its default ports (wrangler dev, the loopback S3 with `test-bucket`, three agents), a
 * command job, sample Parquet data, a distributed group-by with its result table, and a clean stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS } from '../../cli/commands/local-defaults.ts';
import { runTmProcess } from '../support/tm-process.ts';

const configHome = mkdtempSync(join(tmpdir(), 'tm-demo-config-'));
afterAll(() => rmSync(configHome, { recursive: true, force: true }));

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** The rows of the demo's result table: the lines between its dashed rule and the next blank line. */
function resultTable(stdout: string): string[][] {
  const lines = stdout.split('\n');
  const rule = lines.findIndex((line) => /^\s+-{4,}(\s+-{4,})+\s*$/.test(line));
  expect(rule).toBeGreaterThan(0);
  const rows: string[][] = [];
  for (const line of lines.slice(rule + 1)) {
    if (line.trim() === '') break;
    rows.push(line.trim().split(/\s+/));
  }
  return rows;
}

describe('tm demo', () => {
  it('runs a command job and a distributed group-by on the local stack, and stops it', async () => {
    // A stack the developer keeps up (`npm start`) is used as it is, and left running.
    const wasUp = await answers(LOCAL_DEFAULTS.publicUrl);
    const run = await runTmProcess(
      { url: LOCAL_DEFAULTS.publicUrl, token: '', configHome },
      ['demo'],
      { env: { TM_URL: undefined, TM_TOKEN: undefined } },
    );
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.code, run.stdout + run.stderr).toBe(0);

    // 1. The command job: one task on each of the three agents.
    const tasks = [...run.stdout.matchAll(/task \w+ on (localhost:\d+): succeeded, exit code 0/g)];
    expect(new Set(tasks.map((match) => match[1])).size).toBe(3);

    // 2. The group-by: every sample row read, and counted once in the table's orders.
    const summary = /job [0-9a-f-]+ succeeded in [\d.]+ s: ([\d,]+) rows, [\d,]+ rows\/s/.exec(
      run.stdout,
    );
    expect(summary).not.toBeNull();
    const rowsRead = Number(summary![1]!.replaceAll(',', ''));
    expect(rowsRead).toBeGreaterThanOrEqual(1_000_000);
    expect(run.stdout).toMatch(/region\s+orders\s+revenue\s+avg_quantity\s+products/);
    const rows = resultTable(run.stdout);
    const regions = rows.map((row) => row[0]);
    expect(regions).toContain('NULL'); // NULL keys are a group of their own
    expect(new Set(regions).size).toBe(rows.length);
    expect(rows.reduce((sum, row) => sum + Number(row[1]), 0)).toBe(rowsRead);

    if (!wasUp) expect(await answers(LOCAL_DEFAULTS.publicUrl)).toBe(false);
  });
});
