/**
 * End to end: distributed group-bys over Parquet, Arrow and CSV objects in a loopback S3, run by
 * real agents from a real `wrangler dev`, and compared with DuckDB's answer to the same SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import type { MapResult, ReduceResult, SubmitJobRequest } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';
import { eventually } from '../support/wait.ts';
import { canonical, normalize } from '../support/compare-rows.ts';

const FILES = 4;
const ROWS_PER_FILE = 25_000;

let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  stack = await startTestStack({ agents: 3, s3: true });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({
    store,
    prefix: 'e2e/',
    files: FILES,
    rowsPerFile: ROWS_PER_FILE,
    rowGroupSize: 6000,
  });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
});

interface Case {
  name: string;
  request: Omit<Extract<SubmitJobRequest, { kind: 'aggregate' }>, 'kind' | 'source'>;
  /** The same query in SQL over `data`, its columns in the result's order. */
  sql: string;
  ordered?: boolean;
}

const CASES: Case[] = [
  {
    name: 'one key, every aggregate, NULL keys and values',
    request: {
      groupBy: ['category'],
      aggregates: [
        { op: 'count' },
        { op: 'count', column: 'v' },
        { op: 'sum', column: 'v' },
        { op: 'min', column: 'v' },
        { op: 'max', column: 'v' },
        { op: 'avg', column: 'v' },
        { op: 'count_distinct', column: 'n' },
      ],
    },
    sql: 'SELECT category, count(*), count(v), sum(v), min(v), max(v), avg(v), count(DISTINCT n) FROM data GROUP BY category',
  },
  {
    name: 'two keys with filters, int64 extremes in min and max',
    request: {
      groupBy: ['category', 'flag'],
      filter: [
        { column: 'v', op: '>', value: 0 },
        { column: 'n', op: 'in', value: [1, 2, 3, 500, 999] },
      ],
      aggregates: [
        { op: 'sum', column: 'n' },
        { op: 'min', column: 'k' },
        { op: 'max', column: 'k' },
      ],
    },
    sql: 'SELECT category, flag, sum(n), min(k), max(k) FROM data WHERE v > 0 AND n IN (1, 2, 3, 500, 999) GROUP BY category, flag',
  },
  {
    name: 'no grouping: one global row over dates, timestamps and decimals',
    request: {
      aggregates: [
        { op: 'count' },
        { op: 'sum', column: 'v' },
        { op: 'min', column: 'day' },
        { op: 'max', column: 'day' },
        { op: 'min', column: 'ts' },
        { op: 'max', column: 'ts' },
        { op: 'min', column: 'price' },
        { op: 'avg', column: 'price' },
      ],
    },
    sql: 'SELECT count(*), sum(v), min(day), max(day), min(ts), max(ts), min(price)::DOUBLE, avg(price)::DOUBLE FROM data',
  },
  {
    name: 'int64 extremes as group keys',
    request: { groupBy: ['k'], aggregates: [{ op: 'count' }, { op: 'max', column: 'id' }] },
    sql: 'SELECT k, count(*), max(id) FROM data GROUP BY k',
  },
  {
    name: 'dates and booleans as keys, filters on dates, timestamps and strings',
    request: {
      groupBy: ['day', 'flag'],
      filter: [
        { column: 'day', op: '>=', value: '2020-06-01' },
        { column: 'ts', op: '<', value: '2021-01-02T00:00:00' },
        { column: 'category', op: '!=', value: 'cat-3' },
        { column: 'category', op: 'is not null' },
      ],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }],
    },
    sql: "SELECT day, flag, count(*), sum(n) FROM data WHERE day >= DATE '2020-06-01' AND ts < TIMESTAMP '2021-01-02 00:00:00' AND category != 'cat-3' GROUP BY day, flag",
  },
  {
    name: 'a high-cardinality string key with quotes and commas',
    request: { groupBy: ['tag'], aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }] },
    sql: 'SELECT tag, count(*), sum(n) FROM data GROUP BY tag',
  },
  {
    name: 'order by and limit',
    request: {
      groupBy: ['category'],
      aggregates: [{ op: 'sum', column: 'v', as: 'total' }],
      orderBy: [{ column: 'total', desc: true }],
      limit: 3,
    },
    sql: 'SELECT category, sum(v) AS total FROM data GROUP BY category ORDER BY total DESC LIMIT 3',
    ordered: true,
  },
  {
    name: 'a filter nothing matches',
    request: {
      groupBy: ['category'],
      filter: [{ column: 'n', op: '=', value: 5000 }],
      aggregates: [{ op: 'count' }],
    },
    sql: 'SELECT category, count(*) FROM data WHERE n = 5000 GROUP BY category',
  },
];

async function run(format: 'parquet' | 'arrow' | 'csv', request: Case['request']) {
  const prefix = `${data.prefix}${format}/`;
  const job = await stack.client.submitJob(
    { kind: 'aggregate', source: { store: 'test-bucket', prefix, format }, ...request },
    120,
  );
  return job;
}

async function resultRows(jobId: string): Promise<unknown[][]> {
  // Pages stop at VIEW_BUDGET_BYTES, before the 92,000 groups of the high-cardinality case.
  const page = await stack.client.resultAll(jobId);
  return page.rows.map((row) => page.columns.map((column) => row[column.name]));
}

describe.each(['parquet', 'arrow', 'csv'] as const)('aggregations over %s', (format) => {
  // DuckDB reads no Arrow IPC offline; the Arrow files were converted from the Parquet ones.
  const source = format === 'csv' ? `read_csv('${'GLOB'}')` : `read_parquet('${'GLOB'}')`;
  it.each(CASES)('$name equals DuckDB', async ({ request, sql, ordered }) => {
    const job = await run(format, request);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    const ours = await resultRows(job.id);
    const glob = data.glob(format === 'csv' ? 'csv' : 'parquet');
    const theirs = (
      await duckdbRows(`WITH data AS (SELECT * FROM ${source.replace('GLOB', glob)}) ${sql}`)
    ).map((row) => Object.values(row));
    if (ordered)
      expect(ours.map((row) => row.map(normalize))).toEqual(
        theirs.map((row) => row.map(normalize)),
      );
    else expect(canonical(ours)).toEqual(canonical(theirs));
  });
});

describe('aggregation progress and results', () => {
  it('reports rows and bytes read and serves the result as Arrow too', async () => {
    const job = await run('parquet', { groupBy: ['flag'], aggregates: [{ op: 'count' }] });
    expect(job.progress).toMatchObject({ phase: 'done', rowsRead: FILES * ROWS_PER_FILE });
    expect(job.progress!.bytesRead).toBeGreaterThan(0);
    const response = await fetch(`${stack.url}/v1/jobs/${job.id}/result?format=arrow`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(response.headers.get('content-type')).toContain('arrow');
    const table = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    expect(table.numRows).toBe(3);
  });

  it('hands small intermediates back inline: no reduce step, nothing but the result is written, and it is the same', async () => {
    const request = {
      groupBy: ['category'],
      aggregates: [{ op: 'count' as const }, { op: 'sum' as const, column: 'v' }],
    };
    const job = await run('parquet', request);
    expect(job.state).toBe('succeeded');
    const tasks = (await stack.client.getJob(job.id, 100)).tasks ?? [];
    // Every partial came back inline, so the final step merged them itself.
    expect(tasks.map((task) => task.kind).filter((kind) => kind !== 'aggregate-map')).toEqual([
      'aggregate-final',
    ]);
    const outputs = tasks.flatMap((task) =>
      task.kind === 'aggregate-map' ? (task.result as MapResult).partitions : [],
    );
    expect(outputs.length).toBeGreaterThan(FILES);
    // The API shows each inline output's size, never its bytes.
    for (const output of outputs) {
      expect(output).not.toHaveProperty('key');
      expect(output).not.toHaveProperty('inline');
      expect(output).toHaveProperty('inlineBytes', expect.any(Number));
    }
    const final = tasks.find((task) => task.kind === 'aggregate-final')!.result as ReduceResult;
    const folder = final.key!.slice(0, final.key!.lastIndexOf('/') + 1);
    const store = createObjectStore(stack.s3!.access);
    try {
      const written: string[] = [];
      for await (const object of store.list(folder)) written.push(object.key);
      expect(written).toEqual([final.key]);
    } finally {
      store.close();
    }
    const stored = await run('parquet', { ...request, inlineIntermediates: false });
    const storedTasks = (await stack.client.getJob(stored.id, 100)).tasks ?? [];
    expect(storedTasks.some((task) => task.kind === 'aggregate-reduce')).toBe(true);
    expect(canonical(await resultRows(job.id))).toEqual(canonical(await resultRows(stored.id)));
  });

  it('deletes its intermediates once it ends, and keeps the result', async () => {
    const job = await run('parquet', {
      groupBy: ['category'],
      aggregates: [{ op: 'count' }],
      inlineIntermediates: false,
    });
    expect(job.state).toBe('succeeded');
    const tasks = (await stack.client.getJob(job.id, 100)).tasks ?? [];
    const partials = tasks
      .filter((task) => task.kind === 'aggregate-map')
      .flatMap((task) => (task.result as MapResult).partitions.map((p) => p.key!));
    const reduced = tasks
      .filter((task) => task.kind === 'aggregate-reduce')
      .map((task) => (task.result as ReduceResult).key!);
    expect(partials.length).toBeGreaterThan(0);
    expect(reduced.length).toBeGreaterThan(0);
    const store = createObjectStore(stack.s3!.access);
    try {
      const under = async (prefix: string) => {
        const keys: string[] = [];
        for await (const object of store.list(prefix)) keys.push(object.key);
        return keys;
      };
      const folder = partials[0]!.slice(0, partials[0]!.indexOf('/map/') + 1);
      const left = await eventually(async () => {
        const keys = await under(folder);
        return keys.some((key) => partials.includes(key) || reduced.includes(key))
          ? undefined
          : keys;
      }, 'the intermediates to be deleted');
      expect(left.map((key) => key.slice(folder.length))).toEqual([
        expect.stringMatching(new RegExp(`^result-${job.id}\\.attempt-\\d+\\.arrow$`)),
      ]);
    } finally {
      store.close();
    }
    expect((await stack.client.result(job.id)).rows.length).toBeGreaterThan(0);
  });

  it('deletes only its own names under an output prefix the user chose', async () => {
    const store = createObjectStore(stack.s3!.access);
    const theirs = ['mine/out/map/notes.txt', 'mine/out/reduce/part-0.arrow', 'mine/out/x.txt'];
    try {
      for (const key of theirs) await store.put(key, new TextEncoder().encode(key));
      const job = await run('parquet', {
        groupBy: ['category'],
        aggregates: [{ op: 'count' }],
        output: { store: 'test-bucket', prefix: 'mine/out' },
        inlineIntermediates: false,
      });
      expect(job.state).toBe('succeeded');
      const keys = await eventually(async () => {
        const found: string[] = [];
        for await (const object of store.list('mine/out/')) found.push(object.key);
        return found.some((key) => /\/(map|reduce)\/[0-9a-f-]{36}\//.test(key)) ? undefined : found;
      }, 'the intermediates to be deleted');
      expect(keys.filter((key) => !theirs.includes(key))).toEqual([
        expect.stringMatching(new RegExp(`^mine/out/result-${job.id}\\.attempt-\\d+\\.arrow$`)),
      ]);
      expect(keys).toEqual(expect.arrayContaining(theirs));
    } finally {
      store.close();
    }
  });
});

describe('bad aggregations fail clearly and the cluster goes on', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'an unknown column',
      {
        source: { store: 'test-bucket', prefix: 'e2e/parquet/', format: 'parquet' },
        groupBy: ['nope'],
        aggregates: [{ op: 'count' }],
      },
      /e2e\/parquet\/part-\d\.parquet.*nope/,
    ],
    [
      'sum over a string',
      {
        source: { store: 'test-bucket', prefix: 'e2e/parquet/', format: 'parquet' },
        aggregates: [{ op: 'sum', column: 'category' }],
      },
      /e2e\/parquet\/part-\d\.parquet.*(sum.*category|category.*sum)/,
    ],
    [
      'a format that does not match the bytes',
      {
        source: { store: 'test-bucket', prefix: 'e2e/csv/', format: 'parquet' },
        aggregates: [{ op: 'count' }],
      },
      /e2e\/csv\/part-\d\.csv/,
    ],
    [
      'an empty prefix',
      {
        source: { store: 'test-bucket', prefix: 'nothing-here/', format: 'parquet' },
        aggregates: [{ op: 'count' }],
      },
      /no input objects under s3:\/\/test-bucket\/nothing-here\//,
    ],
  ];
  it.each(cases)('%s', async (_name, body, message) => {
    const job = await stack.client.submitJob(
      { kind: 'aggregate', ...body } as SubmitJobRequest,
      120,
    );
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(message);
    const echo = await stack.client.submitJob({ kind: 'echo', payload: 'still here' }, 30);
    expect(echo.state).toBe('succeeded');
  });

  it('a corrupt file names the file', async () => {
    const store = createObjectStore(stack.s3!.access);
    await store.put(
      'e2e/corrupt/bad.parquet',
      new TextEncoder().encode('PAR1 this is not parquet PAR1'),
    );
    const job = await stack.client.submitJob(
      {
        kind: 'aggregate',
        source: { store: 'test-bucket', prefix: 'e2e/corrupt/', format: 'parquet' },
        aggregates: [{ op: 'count' }],
      },
      120,
    );
    expect(job.state).toBe('failed');
    expect(job.error).toContain('e2e/corrupt/bad.parquet');
  });
});
