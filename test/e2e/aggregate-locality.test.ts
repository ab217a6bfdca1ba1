/**
 * Locality end to end: a job over data read before runs its maps on the agents that read it, which
 * serve the bytes from their block caches; a changed object is read afresh; a missing agent is
 * never waited for. Real agents, real `wrangler dev`, real loopback S3. (A partly cached read
 * fetching only what is missing is tested on the cache itself, in storage-block-cache.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../protocol/index.ts';
import type { ObjectStore } from '../../worker-agent/storage/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { mapTasks } from '../support/map-tasks.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { eventually } from '../support/wait.ts';

const FILES = 4;
const PREFIX = 'locality/';

let stack: TestStack;
let data: Datasets;
let store: ObjectStore;

beforeAll(async () => {
  stack = await startTestStack({ agents: 3, s3: true, slots: 2 });
  store = createObjectStore(stack.s3!.access);
  data = await createDatasets({
    store,
    prefix: 'locality-source/',
    files: FILES,
    rowsPerFile: 20_000,
    rowGroupSize: 5000,
  });
  for (let i = 0; i < FILES; i++) await copy(i, i);
}, 180_000);

afterAll(async () => {
  store?.close();
  await stack?.stop();
  await data?.cleanup();
});

/** Puts source file `from` at `locality/part-<to>.parquet`. */
async function copy(from: number, to: number) {
  const bytes = await store.get(`locality-source/parquet/part-${from}.parquet`);
  await store.put(`${PREFIX}part-${to}.parquet`, bytes);
}

async function aggregate(aggregates: { op: 'sum' | 'min' | 'max' | 'count'; column?: string }[]) {
  const job = await stack.client.submitJob(
    {
      kind: 'aggregate',
      source: { store: 'test-bucket', prefix: PREFIX, format: 'parquet' },
      groupBy: ['category'],
      aggregates,
      orderBy: [{ column: 'category' }],
    },
    120,
  );
  expect(job.error).toBeNull();
  expect(job.state).toBe('succeeded');
  return stack.client.getJob(job.id, 100);
}

async function rows(job: JobView) {
  const page = await stack.client.result(job.id, 0, 1000);
  return page.rows;
}

describe('locality', { timeout: 180_000 }, () => {
  let first: JobView;

  it('reads from the store the first time', async () => {
    first = await aggregate([{ op: 'sum', column: 'v' }]);
    expect(mapTasks(first)).toHaveLength(FILES);
    // A task may reread a block it fetched a moment before (blocks are 256 KiB); the rest was fetched.
    for (const { result } of mapTasks(first))
      expect(result.bytesCached).toBeLessThan(result.bytesRead);
    // Spread over the agents, so the next job's preferences are not all one agent.
    expect(new Set(mapTasks(first).map((map) => map.workerId)).size).toBeGreaterThan(1);
  });

  it('runs each map of the next job on the agent that read its split, from its cache', async () => {
    // Same columns, other aggregates: every byte the maps read was read by the first job.
    const second = await aggregate([
      { op: 'min', column: 'v' },
      { op: 'max', column: 'v' },
    ]);
    expect(mapTasks(second).map((map) => map.workerId)).toEqual(
      mapTasks(first).map((map) => map.workerId),
    );
    for (const { result } of mapTasks(second)) {
      expect(result.bytesRead).toBeGreaterThan(0);
      expect(result.bytesCached).toBe(result.bytesRead);
    }
    expect(second.progress?.bytesCached).toBe(second.progress?.bytesRead);
  });

  it('reads a changed object afresh: the cache never serves an old version', async () => {
    const perFile = async () => {
      const job = await aggregate([{ op: 'count' }, { op: 'sum', column: 'v' }]);
      return rows(job);
    };
    const before = await perFile();
    // Part 0 now holds part 1's rows: same size class, another version (ETag).
    await copy(1, 0);
    const after = await perFile();
    expect(after).not.toEqual(before);
    const single = async (key: string) => {
      const job = await stack.client.submitJob(
        {
          kind: 'aggregate',
          source: { store: 'test-bucket', paths: [key], format: 'parquet' },
          groupBy: ['category'],
          aggregates: [{ op: 'count' }, { op: 'sum', column: 'v' }],
          orderBy: [{ column: 'category' }],
        },
        120,
      );
      expect(job.state).toBe('succeeded');
      return rows(job);
    };
    expect(await single(`${PREFIX}part-0.parquet`)).toEqual(
      await single(`${PREFIX}part-1.parquet`),
    );
    await copy(0, 0);
  });

  it('never waits for a preferred agent that is gone: the others read its splits', async () => {
    const before = await aggregate([{ op: 'sum', column: 'v' }]);
    const workers = await stack.client.listWorkers();
    const busiest = mapTasks(before)[0]!.workerId;
    const address = workers.find((worker) => worker.id === busiest)?.address;
    const agent = stack.agents.find((candidate) => candidate.address === address)!;
    await agent.stop(2000);
    await eventually(
      async () =>
        (await stack.client.listWorkers()).find((worker) => worker.id === busiest)?.connected
          ? undefined
          : true,
      'the stopped agent to be disconnected',
    );
    const after = await aggregate([{ op: 'sum', column: 'v' }]);
    expect(await rows(after)).toEqual(await rows(before));
    for (const map of mapTasks(after)) expect(map.workerId).not.toBe(busiest);
    const moved = mapTasks(after).filter((_, i) => mapTasks(before)[i]!.workerId === busiest);
    expect(moved.length).toBeGreaterThan(0);
    for (const { result } of moved) expect(result.bytesCached).toBeLessThan(result.bytesRead);
  });
});
