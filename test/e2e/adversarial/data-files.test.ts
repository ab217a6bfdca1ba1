/**
 * Hostile data files and a tampered block cache, against the real stack (wrangler dev, a real
 * agent, loopback S3): a Parquet file whose footer declares 2^27 rows over one value, and a 1 MB
 * gzip page that inflates to 1 GiB, each fail their job with the reader's error naming the column,
 * while the agent stays up (same process, still connected) and runs the next job; and a cache file
 * rewritten on disk between two runs of a query does not change its answer.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregateJobRequest } from '../../../protocol/index.ts';
import { agentCacheDir } from '../../../cli/local/agent-process.ts';
import type { ObjectStore } from '../../../worker-agent/storage/index.ts';
import { createObjectStore } from '../../../worker-agent/storage/object-store.ts';
import { duckdb } from '../../support/datasets.ts';
import { CODEC, gzipBomb, hostileParquet, page, PAGE } from '../../support/hostile-parquet.ts';
import { startTestStack, type TestStack } from '../../support/stack.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

let stack: TestStack;
let store: ObjectStore;
let dir: string;

const int64 = (n: number) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64LE(BigInt(n));
  return bytes;
};

beforeAll(async () => {
  stack = await startTestStack({ agents: 1, slots: 1, s3: true });
  store = createObjectStore(stack.s3!.access);
  dir = await mkdtemp(join(tmpdir(), 'tm-data-files-'));
  await store.put(
    'hostile/rows/file.parquet',
    hostileParquet({
      rows: 2 ** 27,
      codec: CODEC.UNCOMPRESSED,
      pages: [page({ type: PAGE.DATA, size: 8, body: int64(7), values: 1 })],
    }),
  );
  await store.put(
    'hostile/gzip/file.parquet',
    hostileParquet({
      rows: 1,
      codec: CODEC.GZIP,
      pages: [page({ type: PAGE.DATA, size: 8, body: gzipBomb(1024 ** 3), values: 1 })],
    }),
  );
  // Plain pages, so each region's name lies in the file (and its cache) as it is.
  const regions = join(dir, 'regions.parquet');
  await (
    await duckdb()
  ).run(
    `COPY (SELECT CASE i % 3 WHEN 0 THEN 'North' WHEN 1 THEN 'South' ELSE 'East' END AS region,
       i AS n FROM range(3000) t(i))
     TO '${regions}' (FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE 1000)`,
  );
  await store.put('regions/regions.parquet', await readFile(regions));
}, 180_000);

afterAll(async () => {
  store?.close();
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sumOf(prefix: string): AggregateJobRequest {
  return {
    kind: 'aggregate',
    source: { store: 'test-bucket', prefix, format: 'parquet' },
    groupBy: [],
    aggregates: [{ op: 'sum', column: 'x' }],
  };
}

const byRegion: AggregateJobRequest = {
  kind: 'aggregate',
  source: { store: 'test-bucket', prefix: 'regions/', format: 'parquet' },
  groupBy: ['region'],
  aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }],
  orderBy: [{ column: 'region' }],
};

/** The agent is the same process as at the start, and the Scheduler still has it connected. */
async function expectAgentUp(pid: number | undefined): Promise<void> {
  const agent = stack.agents[0]!;
  expect(agent.alive()).toBe(true);
  expect(agent.process.pid).toBe(pid);
  const workers = await stack.client.listWorkers();
  expect(workers.filter((worker) => worker.connected)).toHaveLength(1);
}

async function regionRows() {
  const job = await stack.client.submitJob(byRegion, 120);
  expect(job.error).toBeNull();
  expect(job.state).toBe('succeeded');
  return (await stack.client.result(job.id)).rows;
}

describe('hostile data files', { timeout: 180_000 }, () => {
  it.each([
    [
      'a footer declaring 2^27 rows over one value',
      'hostile/rows/',
      /column x: its pages hold 1 values for the row group's 134217728 rows/,
    ],
    [
      'a gzip page inflating to 1 GiB',
      'hostile/gzip/',
      /column x: a page decompresses to more than the 8 bytes its header says/,
    ],
  ])(
    '%s fails its job with the reader error; the agent stays up and runs the next job',
    async (_name, prefix, message) => {
      const pid = stack.agents[0]!.process.pid;
      const job = await stack.client.submitJob(sumOf(prefix), 120);
      expect(job.state).toBe('failed');
      expect(job.error).toMatch(message);
      expect(job.error).toContain(`${prefix}file.parquet`);
      await expectAgentUp(pid);
      expect(await regionRows()).toHaveLength(3);
      await expectAgentUp(pid);
    },
  );
});

describe('a tampered block cache', { timeout: 180_000 }, () => {
  it('returns the true groups after the cached extents were rewritten between two runs', async () => {
    const first = await regionRows();
    expect(first.map((row) => row.region)).toEqual(['East', 'North', 'South']);
    // What a command job on an agent without isolation could do: rewrite the cached blocks,
    // keeping their size, so that one region reads as another name.
    const cache = agentCacheDir(stack.stateDir, stack.agents[0]!.address);
    let rewritten = 0;
    // One directory per object version (beside them, the tag key file).
    const objects = readdirSync(cache, { withFileTypes: true }).filter((e) => e.isDirectory());
    for (const { name: object } of objects) {
      for (const name of readdirSync(join(cache, object))) {
        const file = join(cache, object, name);
        const bytes = readFileSync(file);
        const text = bytes.toString('latin1');
        if (!text.includes('North')) continue;
        writeFileSync(file, Buffer.from(text.replaceAll('North', 'Xorth'), 'latin1'));
        rewritten++;
      }
    }
    expect(rewritten).toBeGreaterThan(0);
    expect(await regionRows()).toEqual(first);
    const log = readFileSync(stack.agents[0]!.logFile, 'utf8');
    expect(log.split('a cached extent failed its checksum').length - 1).toBe(1);
    // Fetched again from the store, the blocks serve a third run as they should.
    expect(await regionRows()).toEqual(first);
  });
});
