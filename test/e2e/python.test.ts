/**
 * End to end: the Python client's own unittest suite (clients/python/tests) against a real stack —
 * `wrangler dev`, two agents and the loopback S3 with a small CSV data set uploaded for it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { runPythonTests } from '../support/python.ts';

const AGENTS = 2;
const PREFIX = 'python/sales/';
const FILES = 2;
const ROWS_PER_FILE = 150;
/** The stand-in executor every agent announces, for the pipeline tests. */
const EXECUTOR = 'py-echo';

/** A deterministic CSV part: region, product, quantity (int), price (two decimals). */
function salesCsv(part: number): string {
  const regions = ['eu', 'us', 'apac', 'latam'];
  const products = ['anvil', 'rope', 'magnet'];
  const lines = ['region,product,quantity,price'];
  for (let i = 0; i < ROWS_PER_FILE; i++) {
    const n = part * ROWS_PER_FILE + i;
    const region = regions[(n * 7) % regions.length]!;
    const product = products[(n * 5 + part) % products.length]!;
    const quantity = (n * 13) % 11;
    const price = (((n * 37) % 1000) / 100 + 1).toFixed(2);
    lines.push(`${region},${product},${quantity},${price}`);
  }
  return lines.join('\n') + '\n';
}

let stack: TestStack;
let csvDir: string;
let executorDir: string;

/** Writes the executor's script (it prints `echo: ARGS`) for the agents, which check it at start. */
function writeExecutorScript(): string {
  executorDir = mkdtempSync(join(tmpdir(), 'tm-python-executor-'));
  const script = join(executorDir, EXECUTOR);
  writeFileSync(script, '#!/bin/sh\necho "echo: $*"\n', { mode: 0o755 });
  return script;
}

beforeAll(async () => {
  csvDir = mkdtempSync(join(tmpdir(), 'tm-python-csv-'));
  const executor = writeExecutorScript();
  stack = await startTestStack({
    agents: AGENTS,
    s3: true,
    agentArgs: ['--executor', `${EXECUTOR}=${executor}`],
  });
  const store = createObjectStore(stack.s3!.access);
  for (let part = 0; part < FILES; part++) {
    const text = salesCsv(part);
    writeFileSync(join(csvDir, `part-${part}.csv`), text);
    await store.put(`${PREFIX}part-${part}.csv`, new TextEncoder().encode(text), 'text/csv');
  }
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (csvDir) rmSync(csvDir, { recursive: true, force: true });
  if (executorDir) rmSync(executorDir, { recursive: true, force: true });
});

describe('python client', () => {
  it('passes its unittest suite against the stack', async () => {
    const { code, output } = await runPythonTests({
      TM_TEST_URL: stack.url,
      // Every client the suite makes (the README snippet's too) acts as the admin.
      TM_TOKEN: stack.adminToken,
      TM_TEST_STORE: 'test-bucket',
      TM_TEST_S3_ENDPOINT: stack.s3!.endpoint,
      TM_TEST_PREFIX: PREFIX,
      TM_TEST_CSV_DIR: csvDir,
      TM_TEST_AGENTS: String(AGENTS),
      TM_TEST_EXECUTOR: EXECUTOR,
    });
    if (code !== 0) console.error(output);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Ran \d+ tests? in /m);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/i);
  }, 300_000);
});
