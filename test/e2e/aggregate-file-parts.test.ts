/**
 * Parallelism inside a file, end to end: a job over one Parquet file, with fewer splits than free
 * map slots, is read by a map task per slot (parts of its row groups) on every agent, and answers
 * as DuckDB does; the next job over it finds each part on the agent that read it; parts that own
 * no row group end as empty maps, not errors. Real agents, real `wrangler dev`, real loopback S3.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { mapTasks } from '../support/map-tasks.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';

const AGENTS = 2;
const SLOTS = 2;
/** The floor of a part, low enough that this test's small files are cut into one per slot. */
const MIN_PART_BYTES = 64 * 1024;
const ROWS = 120_000;

let stack: TestStack;
/** One file of many row groups. */
let many: Datasets;
/** One file of two row groups, cut into more parts than that. */
let two: Datasets;

beforeAll(async () => {
  stack = await startTestStack({
    agents: AGENTS,
    slots: SLOTS,
    s3: true,
    vars: { TM_MIN_PART_BYTES: String(MIN_PART_BYTES) },
  });
  const store = createObjectStore(stack.s3!.access);
  many = await createDatasets({ store, prefix: 'parts-many/', files: 1, rowsPerFile: ROWS });
  two = await createDatasets({
    store,
    prefix: 'parts-two/',
    files: 1,
    rowsPerFile: 20_000,
    rowGroupSize: 10_240,
  });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await many?.cleanup();
  await two?.cleanup();
});

const parquet = (data: Datasets) => data.files.find((file) => file.format === 'parquet')!;

/** A group-by over the one file of `data`, finished, with its tasks. */
async function aggregate(data: Datasets): Promise<JobView> {
  const job = await stack.client.submitJob(
    {
      kind: 'aggregate',
      source: { store: 'test-bucket', paths: [parquet(data).key], format: 'parquet' },
      groupBy: ['category'],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }, { op: 'min', column: 'k' }],
    },
    120,
  );
  expect(job.error).toBeNull();
  expect(job.state).toBe('succeeded');
  return stack.client.getJob(job.id, 100);
}

async function sameAsDuckdb(job: JobView, data: Datasets): Promise<void> {
  const ours = (await stack.client.result(job.id)).rows.map((row) =>
    Object.values(row).map(String),
  );
  const theirs = (
    await duckdbRows(
      `SELECT category, count(*), sum(n), min(k) FROM read_parquet('${parquet(data).path}') GROUP BY category`,
    )
  ).map((row) => Object.values(row).map(String));
  expect(ours.sort()).toEqual(theirs.sort());
}

describe('one Parquet file, fewer splits than free map slots', { timeout: 180_000 }, () => {
  let first: JobView;

  it('is read by a map task per slot, on every agent, with the same answer as DuckDB', async () => {
    expect(statSync(parquet(many).path).size).toBeGreaterThan(AGENTS * SLOTS * MIN_PART_BYTES);
    first = await aggregate(many);
    const read = mapTasks(first);
    expect(read).toHaveLength(AGENTS * SLOTS);
    expect(new Set(read.map((map) => map.workerId)).size).toBe(AGENTS);
    // Every part read some row groups, and all of them together every row once.
    for (const map of read) expect(map.result.rowsRead).toBeGreaterThan(0);
    expect(read.reduce((sum, map) => sum + map.result.rowsRead, 0)).toBe(ROWS);
    await sameAsDuckdb(first, many);
  });

  it('finds each part on the agent that read it, in its cache, the next time', async () => {
    const again = await aggregate(many);
    const read = mapTasks(again);
    expect(read.map((map) => map.workerId)).toEqual(mapTasks(first).map((map) => map.workerId));
    for (const map of read) expect(map.result.bytesCached).toBe(map.result.bytesRead);
    await sameAsDuckdb(again, many);
  });

  it('ends the parts that own no row group as empty maps, not errors', async () => {
    expect(statSync(parquet(two).path).size).toBeGreaterThan(AGENTS * SLOTS * MIN_PART_BYTES);
    const job = await aggregate(two);
    const read = mapTasks(job);
    expect(read).toHaveLength(AGENTS * SLOTS);
    const rows = read.map((map) => map.result.rowsRead);
    expect(rows.filter((n) => n === 0)).toHaveLength(AGENTS * SLOTS - 2);
    expect(rows.reduce((sum, n) => sum + n, 0)).toBe(20_000);
    for (const map of read)
      if (map.result.rowsRead === 0) expect(map.result.partitions).toEqual([]);
    await sameAsDuckdb(job, two);
  });
});
