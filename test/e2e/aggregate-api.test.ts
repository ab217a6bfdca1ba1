/**
 * End to end: the API around aggregate jobs, on the real stack. A job's progress before any agent
 * has come, stores kept from deletion while a job uses them, the result in another store, reduce
 * partitions as asked, a large Parquet file read in parts, JSON pages that join up to the whole
 * result, Arrow as an IPC stream, listings paged by cursor, wrong credentials as a clear job
 * error, and no credential in any view or log afterwards.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordBatchReader, Table } from 'apache-arrow';
import { LOCAL_S3_CREDENTIALS } from '../../cli/local/s3-server.ts';
import type { FinalResult, JobView, MapResult, SubmitJobRequest } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';

const FILES = 3;
const ROWS_PER_FILE = 8_000;
const PREFIX = 'api/';
/** Parquet files above this are read in parts; the small files stay whole, the big one does not. */
const SPLIT_BYTES = 1_500_000;
/** A second store over the same bucket, under its own prefix: jobs write their results there. */
const RESULTS = 'api-results';
/** A store the loopback S3 does not know the key of. */
const WRONG = { accessKeyId: 'AKIDWRONGKEY00000001', secretAccessKey: 'wrong-secret-0001/+=' };

let stack: TestStack;
let data: Datasets;
/** One Parquet file of several times SPLIT_BYTES, in many row groups. */
let big: Datasets;
/** Every job this file submits: the credential scan at the end reads all of them. */
const jobs: string[] = [];

beforeAll(async () => {
  // No agent yet: the first test watches a job wait for them.
  stack = await startTestStack({
    agents: 0,
    s3: true,
    vars: { TM_SPLIT_BYTES: String(SPLIT_BYTES) },
  });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: PREFIX, files: FILES, rowsPerFile: ROWS_PER_FILE });
  big = await createDatasets({ store, prefix: 'api-big/', files: 1, rowsPerFile: 120_000 });
  store.close();
  await registerStore(RESULTS, 's3://test-bucket/api-results', LOCAL_S3_CREDENTIALS);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
  await big?.cleanup();
});

function registerStore(name: string, url: string, credentials: typeof WRONG) {
  return stack.client.registerStore({
    name,
    url,
    endpoint: stack.s3!.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    ...credentials,
  });
}

function aggregate(
  request: Omit<Extract<SubmitJobRequest, { kind: 'aggregate' }>, 'kind' | 'source'>,
  store = 'test-bucket',
): SubmitJobRequest {
  return {
    kind: 'aggregate',
    source: { store, prefix: `${PREFIX}parquet/`, format: 'parquet' },
    ...request,
  };
}

async function submit(request: SubmitJobRequest, waitSeconds?: number): Promise<JobView> {
  const job = await stack.client.submitJob(request, waitSeconds);
  jobs.push(job.id);
  return job;
}

async function ensureAgents(): Promise<void> {
  while (stack.agents.length < 2) await stack.addAgent();
}

/** One high-cardinality job, grouped by `tag` into 3 reduce partitions, written to RESULTS. */
let tagged: JobView;
const TAGGED = aggregate({
  groupBy: ['tag'],
  aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }],
  partitions: 3,
  inlineIntermediates: false,
  output: { store: RESULTS, prefix: 'tagged' },
});

describe('a job that waits for agents', () => {
  it('shows its progress from the start and keeps its stores until it ends', async () => {
    const queued = await submit(TAGGED);
    const waiting = await stack.client.getJob(queued.id);
    expect(waiting.state).toBe('queued');
    // The maps (one per small file) and the final step; the reduces join when the maps end.
    expect(waiting.progress).toEqual({
      phase: 'map',
      rowsRead: 0,
      bytesRead: 0,
      bytesCached: 0,
      tasksDone: 0,
      tasksTotal: FILES + 1,
    });
    for (const store of ['test-bucket', RESULTS]) {
      const refused = await fetch(`${stack.url}/v1/object-stores/${store}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${stack.adminToken}` },
      });
      expect(refused.status).toBe(409);
      expect(await refused.text()).toContain(queued.id);
    }

    await ensureAgents();
    tagged = await stack.client.waitJob(queued.id, 120_000);
    expect(tagged.error).toBeNull();
    expect(tagged.state).toBe('succeeded');
    expect(tagged.progress).toMatchObject({
      phase: 'done',
      rowsRead: FILES * ROWS_PER_FILE,
      tasksDone: FILES + 3 + 1,
      tasksTotal: FILES + 3 + 1,
    });
  });
});

describe('results', () => {
  beforeAll(ensureAgents, 60_000);

  it('runs one reduce per partition asked for and writes the result to the output store', async () => {
    const tasks = (await stack.client.getJob(tagged.id, 100)).tasks ?? [];
    const reduces = tasks.filter((task) => task.kind === 'aggregate-reduce');
    expect(reduces).toHaveLength(3);
    const final = tasks.find((task) => task.kind === 'aggregate-final')!.result as FinalResult;
    expect(final.key).toMatch(/^api-results\/tagged\/result-/);
    const store = createObjectStore(stack.s3!.access);
    try {
      expect((await store.head(final.key)).size).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  });

  it('pages JSON in order, and the pages join up to the whole result', async () => {
    const [{ groups }] = (await duckdbRows(
      `SELECT count(DISTINCT tag) + 1 AS groups FROM read_parquet('${data.glob('parquet')}')`,
    )) as [{ groups: number | string }];
    const whole = await stack.client.result(tagged.id, 0, 100_000);
    expect(whole.total).toBe(Number(groups)); // the NULL tags are a group of their own
    expect(whole.next).toBeNull();
    const rows: unknown[] = [];
    const offsets: number[] = [];
    for (let next: number | null = 0; next !== null;) {
      const page = await stack.client.result(tagged.id, next, 1000);
      expect(page.total).toBe(whole.total);
      expect(page.columns).toEqual(whole.columns);
      offsets.push(page.offset);
      rows.push(...page.rows);
      next = page.next;
    }
    expect(offsets).toEqual(
      Array.from({ length: Math.ceil(whole.total / 1000) }, (_, i) => i * 1000),
    );
    expect(rows).toEqual(whole.rows);
    const beyond = await stack.client.result(tagged.id, whole.total + 5, 10);
    expect(beyond).toMatchObject({ rows: [], total: whole.total, next: null });
  });

  it('serves Arrow as an IPC stream, not a file', async () => {
    const bytes = await stack.client.resultArrow(tagged.id);
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).not.toBe('ARROW1');
    const reader = RecordBatchReader.from(bytes);
    expect(reader.isStream()).toBe(true);
    const table = new Table([...reader]);
    expect(table.numRows).toBe((await stack.client.result(tagged.id, 0, 1)).total);
    expect(table.schema.fields.map((field) => field.name)).toEqual(['tag', 'count(*)', 'sum(n)']);
  });

  it('serves a small result from the copy its final step handed back, not from the store', async () => {
    const job = await submit(
      aggregate({ groupBy: ['category'], aggregates: [{ op: 'count' }] }),
      120,
    );
    expect(job.state).toBe('succeeded');
    const final = ((await stack.client.getJob(job.id, 100)).tasks ?? []).find(
      (task) => task.kind === 'aggregate-final',
    )!.result as FinalResult & { inlineBytes?: number };
    // The API shows the copy's size, never its bytes.
    expect(final.inline).toBeUndefined();
    expect(final.inlineBytes).toBeGreaterThan(0);
    const store = createObjectStore(stack.s3!.access);
    try {
      await store.delete(final.key);
    } finally {
      store.close();
    }
    const page = await stack.client.result(job.id);
    expect(page.rows.map((row) => row.category).sort()).toEqual(
      [...Array.from({ length: 7 }, (_, i) => `cat-${i}`), null].sort(),
    );
  });

  it('answers a job nothing matched with its columns and no rows, in JSON and in Arrow', async () => {
    const job = await submit(
      aggregate({
        groupBy: ['category'],
        filter: [{ column: 'n', op: '=', value: 5000 }],
        aggregates: [{ op: 'count' }],
      }),
      120,
    );
    expect(job.state).toBe('succeeded');
    const page = await stack.client.result(job.id);
    expect(page.rows).toEqual([]);
    expect(page.columns.map((column) => column.name)).toEqual(['category', 'count(*)']);
    const reader = RecordBatchReader.from(await stack.client.resultArrow(job.id));
    const table = new Table([...reader]);
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((field) => field.name)).toEqual(['category', 'count(*)']);
  });
});

describe('a Parquet file larger than TM_SPLIT_BYTES', () => {
  beforeAll(ensureAgents, 60_000);

  it('is read by several map tasks, each row once, with the same answer as DuckDB', async () => {
    const file = big.files.find((f) => f.format === 'parquet')!;
    const size = statSync(file.path).size;
    expect(size).toBeGreaterThan(2 * SPLIT_BYTES);
    const job = await submit(
      {
        kind: 'aggregate',
        source: { store: 'test-bucket', paths: [file.key], format: 'parquet' },
        groupBy: ['category'],
        aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }, { op: 'min', column: 'k' }],
      },
      120,
    );
    expect(job.error).toBeNull();
    const tasks = (await stack.client.getJob(job.id, 100)).tasks ?? [];
    const parts = Math.ceil(size / SPLIT_BYTES);
    const maps = tasks.filter((task) => task.kind === 'aggregate-map');
    expect(maps).toHaveLength(parts);
    // Every part read some of the row groups, and all of them together every row once.
    const rowsRead = maps.map((task) => (task.result as MapResult).rowsRead);
    expect(rowsRead).not.toContain(0);
    expect(rowsRead.reduce((sum, rows) => sum + rows, 0)).toBe(120_000);
    const ours = (await stack.client.result(job.id)).rows.map((row) =>
      Object.values(row).map(String),
    );
    const theirs = (
      await duckdbRows(
        `SELECT category, count(*), sum(n), min(k) FROM read_parquet('${file.path}') GROUP BY category`,
      )
    ).map((row) => Object.values(row).map(String));
    expect(ours.sort()).toEqual(theirs.sort());
  });
});

describe('object listings', () => {
  it('pages by cursor through every object under a prefix, in key order', async () => {
    const store = createObjectStore(stack.s3!.access);
    const keys = ['api/listing/a.csv', 'api/listing/b.csv', 'api/listing/c/d.csv'];
    try {
      for (const key of [...keys, 'api/listing-not/e.csv'])
        await store.put(key, new TextEncoder().encode(key));
    } finally {
      store.close();
    }
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await stack.client.listObjects('test-bucket', 'api/listing/', {
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      pages.push(page.objects.length);
      seen.push(...page.objects.map((object) => object.key));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(pages).toEqual([2, 1]);
    expect(seen).toEqual(keys);
  });
});

describe('wrong credentials', () => {
  beforeAll(async () => {
    await ensureAgents();
    await registerStore('wrong-key', 's3://test-bucket', WRONG);
  }, 60_000);

  it('fail a job that reads with them, clearly and at once', async () => {
    const job = await submit(aggregate({ aggregates: [{ op: 'count' }] }, 'wrong-key'), 60);
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/access denied.*credentials/);
  });

  it("fail a job that writes its result with them, on the agent's side", async () => {
    const job = await submit(
      aggregate({ aggregates: [{ op: 'count' }], output: { store: 'wrong-key', prefix: 'out' } }),
      120,
    );
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/access denied/);
    expect(job.error).toContain('test-bucket');
  });

  it('show in no view, log or error of any job, good or failed', async () => {
    const secrets = [
      WRONG.accessKeyId,
      WRONG.secretAccessKey,
      LOCAL_S3_CREDENTIALS.secretAccessKey,
    ];
    const shown: string[] = [JSON.stringify(await stack.client.listStores())];
    for (const id of jobs) {
      const job = await stack.client.getJob(id, 100);
      shown.push(JSON.stringify(job));
      for (const task of job.tasks ?? [])
        shown.push(JSON.stringify(await stack.client.getTask(task.id)));
      const logs = await fetch(`${stack.url}/v1/jobs/${id}/logs`, {
        headers: { authorization: `Bearer ${stack.adminToken}` },
      });
      shown.push(await logs.text());
    }
    const logDir = join(stack.stateDir, 'logs');
    const logFiles = readdirSync(logDir).filter((name) => name.endsWith('.log'));
    expect(logFiles.length).toBeGreaterThanOrEqual(3); // the control plane's and two agents'
    for (const name of logFiles) shown.push(readFileSync(join(logDir, name), 'utf8'));
    expect(jobs.length).toBeGreaterThanOrEqual(4);
    for (const text of shown) for (const secret of secrets) expect(text).not.toContain(secret);
  });
});
