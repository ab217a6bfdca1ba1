/**
 * Map tasks on worker threads: the same outcome as the map executor run in-process, against a real
 * s3rver; a thread is reused for the next task; a cancel stops the task and ends nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Assignment } from '../../protocol/index.ts';
import { mapExecutor } from '../../worker-agent/executors/aggregate-map.ts';
import { MapThreadPool } from '../../worker-agent/map-threads/pool.ts';
import type { MapSpec, Progress, TaskOutcome } from '../../worker-agent/task-outcome.ts';
import { createUrlStore, type ObjectStore } from '../../worker-agent/storage/index.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { closeTestStore, openTestStore, type TestS3 } from '../support/s3.ts';
import { mapStores } from '../support/task-urls.ts';

let s3: TestS3;
let store: ObjectStore;
let data: Datasets;
let tempDir: string;
let pool: MapThreadPool;

beforeAll(async () => {
  ({ s3, store } = await openTestStore());
  data = await createDatasets({ store, files: 1, prefix: 'map-threads/' });
  tempDir = await mkdtemp(join(tmpdir(), 'tm-map-threads-'));
  pool = new MapThreadPool({ tempDir, storeTimeoutMs: 10_000, cache: null, logFormat: 'text' });
}, 120_000);
afterAll(async () => {
  await pool?.close();
  await data?.cleanup();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  await closeTestStore({ s3, store });
});

function spec(prefix: string): MapSpec {
  const file = data.files.find((f) => f.format === 'parquet')!;
  return {
    kind: 'aggregate-map',
    query: {
      filter: [],
      groupBy: ['category'],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }],
    },
    format: 'parquet',
    input: { key: file.key, size: statSync(file.path).size },
    partitions: 2,
    ...mapStores(s3.access, file.key, prefix, 2),
  };
}

async function run(
  executor: (task: never) => TaskOutcome | Promise<TaskOutcome>,
  mapSpec: MapSpec,
  signal = new AbortController().signal,
) {
  const events: string[] = [];
  const progress: Progress[] = [];
  const outcome = await executor({
    assignment: { taskId: 't1', attempt: 1 } as unknown as Assignment,
    spec: mapSpec,
    signal,
    started: () => events.push('started'),
    log: () => undefined,
    progress: (figures: Progress) => progress.push(figures),
  } as never);
  return { outcome, events, progress };
}

describe('map threads', { timeout: 120_000 }, () => {
  it('give the same outcome as the executor in-process, and reuse a thread', async () => {
    const direct = await run(mapExecutor({ tempDir, openStore: createUrlStore }), spec('direct/'));
    expect(direct.outcome.ok).toBe(true);
    for (const prefix of ['threaded-1/', 'threaded-2/']) {
      const threaded = await run(pool.executor, spec(prefix));
      expect(threaded.events).toEqual(['started']);
      // The executor reports after every batch; the thread posts the first report and then at
      // most one per 100 ms.
      expect(direct.progress.length).toBeGreaterThan(2);
      expect(threaded.progress.length).toBeGreaterThan(0);
      expect(threaded.progress.length).toBeLessThan(direct.progress.length);
      const strip = (outcome: TaskOutcome, p: string) =>
        JSON.parse(JSON.stringify(outcome).replaceAll(p, ''));
      expect(strip(threaded.outcome, prefix)).toEqual(strip(direct.outcome, 'direct/'));
    }
  });

  it('loads its warm threads before any task, and runs tasks on them', async () => {
    const warm = new MapThreadPool(
      { tempDir, storeTimeoutMs: 10_000, cache: null, logFormat: 'text' },
      2,
    );
    try {
      warm.warm();
      expect(warm.idleCount).toBe(2);
      warm.warm();
      expect(warm.idleCount).toBe(2);
      const runs = await Promise.all(
        ['warm-1/', 'warm-2/', 'warm-3/'].map((prefix) => run(warm.executor, spec(prefix))),
      );
      expect(runs.every(({ outcome }) => outcome.ok)).toBe(true);
      // Two warm threads and the one a third task needed are all back.
      expect(warm.idleCount).toBe(3);
    } finally {
      await warm.close();
    }
  });

  it('reports bad data as the executor does (a final failure naming the column)', async () => {
    const bad = spec('bad/');
    bad.query = { ...bad.query, aggregates: [{ op: 'sum', column: 'no_such_column' }] };
    const { outcome } = await run(pool.executor, bad);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.error.nonRetryable).toBe(true);
      expect(outcome.error.message).toContain('no_such_column');
    }
  });

  it('stops a cancelled task as cancelled, mid-read or before it starts, and the pool goes on', async () => {
    for (const when of ['before', 'mid-read'] as const) {
      const controller = new AbortController();
      if (when === 'before') controller.abort();
      const running = run(pool.executor, spec(`cancelled-${when}/`), controller.signal);
      if (when === 'mid-read') setTimeout(() => controller.abort(), 5);
      const { outcome } = await running;
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.type).toBe('cancelled');
    }
    const after = await run(pool.executor, spec('after/'));
    expect(after.outcome.ok).toBe(true);
  });
});
