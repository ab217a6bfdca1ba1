/**
 * End to end: aggregate jobs written as SQL, through `POST /v1/jobs {"kind":"aggregate","sql"}`
 * and `tm query`, on real agents over a loopback S3, each result equal to DuckDB's answer to the
 * same SQL text (its s3:// URLs pointed at the local copies of the objects); and SQL the job
 * cannot run refused with a 400 that names the clause.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, JobView, ResultPage } from '../../protocol/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';
import { canonical, normalize } from '../support/compare-rows.ts';
import { runTmProcess } from '../support/tm-process.ts';
import { callApi } from '../support/http.ts';
import { salesTable, toParquet } from '../../cli/local/sample-data.ts';

const PREFIX = 'sql/';
const DATA = `s3://test-bucket/${PREFIX}`;

let stack: TestStack;
let data: Datasets;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tm-sql-home-'));
  stack = await startTestStack({ agents: 2, s3: true });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: PREFIX, files: 3, rowsPerFile: 8_000 });
  // The demo's sales data, where `tm demo` puts it, for the issue's own query.
  mkdirSync(join(data.dir, 'samples', 'sales'), { recursive: true });
  for (const part of [0, 1]) {
    const bytes = toParquet(salesTable(part + 1, 20_000));
    const key = `samples/sales/part-${part}.parquet`;
    writeFileSync(join(data.dir, key), bytes);
    await store.put(key, bytes);
  }
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

/**
 * The SQL as DuckDB runs it: each `s3://test-bucket/sql/…` or `s3://test-bucket/samples/…` URL
 * pointed at the local copy, a folder read as the Parquet files in it (the job's rule for a folder).
 */
const local = (sql: string) =>
  sql.replace(/'s3:\/\/test-bucket\/(?:sql\/)?([^']*)'/g, (_, path: string) =>
    path.endsWith('/') ? `'${data.dir}/${path}*.parquet'` : `'${data.dir}/${path}'`,
  );

/** DuckDB's rows, as lists in its column order, and those column names. */
async function duckdb(sql: string): Promise<{ names: string[]; rows: unknown[][] }> {
  const rows = await duckdbRows(local(sql));
  const names = Object.keys(rows[0] ?? {});
  return { names, rows: rows.map((row) => names.map((name) => row[name])) };
}

/** Our rows in DuckDB's column order, after checking both have the same columns. */
function ours(page: ResultPage, names: string[]): unknown[][] {
  expect(page.columns.map((c) => c.name).sort()).toEqual([...names].sort());
  return page.rows.map((row) => names.map((name) => row[name]));
}

/** `POST /v1/jobs?wait=120` as the admin. */
const post = <T>(body: unknown) =>
  callApi<T>(stack.url, stack.adminToken, 'POST', '/v1/jobs?wait=120', body);

async function submitSql(sql: string, extra: Record<string, unknown> = {}): Promise<JobView> {
  const { status, body } = await post<JobView>({ kind: 'aggregate', sql, ...extra });
  expect(status, JSON.stringify(body)).toBe(202);
  return body;
}

const tm = (args: string[]) =>
  runTmProcess({ url: stack.url, token: stack.adminToken, configHome: home }, args);

interface Case {
  name: string;
  sql: string;
  /** ORDER BY fixes the whole order: compare row by row. */
  ordered?: boolean;
}

const CASES: Case[] = [
  {
    name: "the issue's shape: a folder, WHERE, GROUP BY, ORDER BY a position, LIMIT",
    sql: `SELECT category, count(*), avg(v) FROM '${DATA}parquet/' WHERE n > 5 GROUP BY category ORDER BY 2 DESC, 1 LIMIT 4`,
    ordered: true,
  },
  {
    name: 'every aggregate with and without aliases, no GROUP BY',
    sql: `SELECT count(*) AS n_rows, count(v), sum(n) AS total, min(k), max(k), avg(v), count(DISTINCT category), min(day) AS first_day, max(ts) FROM read_parquet('${DATA}parquet/*.parquet')`,
  },
  {
    name: 'IN, BETWEEN, IS NOT NULL, <> and a literal on the left, over CSV',
    sql: `SELECT category, flag, sum(n) AS total, count(*) FROM read_csv('${DATA}csv/*.csv') WHERE category IN ('cat-1', 'cat-2', 'cat-3') AND n BETWEEN 100 AND 600 AND flag IS NOT NULL AND k <> 0 AND 250 <= n GROUP BY category, flag ORDER BY total DESC, category, flag`,
    ordered: true,
  },
  {
    name: 'IS NULL, GROUP BY a position, ORDER BY an alias and NULLs last',
    sql: `SELECT flag, count(*) AS c, max(price) FROM '${DATA}parquet/*.parquet' WHERE tag IS NULL GROUP BY 1 ORDER BY flag DESC`,
    ordered: true,
  },
  {
    name: 'dates and timestamps in WHERE, ORDER BY a key, LIMIT',
    sql: `SELECT day, count(*), min(ts) FROM '${DATA}parquet/*.parquet' WHERE ts < TIMESTAMP '2021-01-01 06:00:00' AND day >= DATE '2020-01-03' GROUP BY day ORDER BY day LIMIT 20`,
    ordered: true,
  },
  {
    name: 'a bare boolean column as a condition',
    sql: `SELECT category, count(*), sum(n) FROM '${DATA}parquet/*.parquet' WHERE flag AND n < 300 GROUP BY category`,
  },
  {
    name: 'one object by its key, ORDER BY the aggregate itself',
    sql: `SELECT category, sum(v) FROM '${DATA}parquet/part-1.parquet' WHERE category IS NOT NULL GROUP BY category ORDER BY sum(v)`,
    ordered: true,
  },
];

describe('POST /v1/jobs {"kind":"aggregate","sql"}', () => {
  it.each(CASES)('$name equals DuckDB', async ({ sql, ordered }) => {
    const job = await submitSql(sql);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    const theirs = await duckdb(sql);
    const rows = ours(await stack.client.resultAll(job.id), theirs.names);
    if (ordered)
      expect(rows.map((row) => row.map(normalize))).toEqual(
        theirs.rows.map((row) => row.map(normalize)),
      );
    else expect(canonical(rows)).toEqual(canonical(theirs.rows));
  });

  it("takes the job's own fields beside the SQL: name, partitions, inlineIntermediates", async () => {
    const sql = `SELECT category, count(*) FROM '${DATA}csv/*.csv' GROUP BY category`;
    const job = await submitSql(sql, {
      name: 'by category',
      partitions: 3,
      inlineIntermediates: false,
      retries: 1,
    });
    expect(job.state).toBe('succeeded');
    expect(job.name).toBe('by category');
    const tasks = (await stack.client.getJob(job.id, 100)).tasks ?? [];
    expect(tasks.filter((task) => task.kind === 'aggregate-reduce')).toHaveLength(3);
  });
});

describe('refusals', () => {
  async function refused(sql: string): Promise<ErrorBody['error']> {
    const { status, body } = await post<ErrorBody>({ kind: 'aggregate', sql });
    expect(status, JSON.stringify(body)).toBe(400);
    return body.error;
  }
  const FROM = `FROM '${DATA}parquet/'`;

  it('names the clause, what is not supported and what is, and where', async () => {
    const or = await refused(`SELECT count(*) ${FROM} WHERE n = 1 OR n = 2`);
    expect(or.code).toBe('bad_request');
    expect(or.message).toMatch(/^WHERE: OR is not supported; WHERE takes conditions joined by AND/);
    expect(or.details).toEqual({ clause: 'WHERE', line: 1, column: expect.any(Number) });
    for (const [sql, message] of [
      [`SELECT category, count(*) ${FROM} GROUP BY category HAVING count(*) > 1`, /^HAVING: /],
      [`SELECT count(*) ${FROM} a JOIN '${DATA}csv/' b ON a.id = b.id`, /^FROM: joins/],
      [`SELECT n, row_number() OVER () ${FROM}`, /^SELECT: a window function/],
      [`SELECT count(*) ${FROM} WHERE n IN (SELECT 1)`, /^WHERE: a subquery/],
      [`SELECT count(*) ${FROM} WHERE tag LIKE 'a%'`, /^WHERE: LIKE is not supported/],
      [`SELECT category, count(*) ${FROM}`, /^SELECT: category is neither in GROUP BY/],
      ["SELECT count(*) FROM 's3://no-such-bucket/x/'", /^FROM: no registered object store/],
    ] as const)
      expect((await refused(sql)).message).toMatch(message);
  });

  it('answers SQL that does not parse with its line and column, never a 500', async () => {
    const error = await refused(`SELECT count(*) ${FROM}\nWHERE n = = 1`);
    expect(error.message).toBe('syntax: the SQL does not parse near "=" (line 2, column 11)');
    expect(error.details).toEqual({ clause: 'syntax', line: 2, column: 11 });
    const cut = await refused(`SELECT count(*) ${FROM} WHERE`);
    expect(cut.message).toMatch(/^syntax: the SQL does not parse at the end of the text/);
  });

  it("checks what the SQL maps to with the aggregate job's own schema", async () => {
    const error = await refused(`SELECT count(*) AS a, sum(n) AS a ${FROM}`);
    expect(error.message).toMatch(/two columns named "a"/);
  });

  it('refuses other fields of a SQL job than its own', async () => {
    const { status, body } = await post<ErrorBody>({
      kind: 'aggregate',
      sql: `SELECT count(*) ${FROM}`,
      groupBy: ['n'],
    });
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/unknown field.*groupBy/);
  });
});

describe('tm query', () => {
  it("runs the issue's query over the demo's sales data as DuckDB does", async () => {
    const sql =
      "SELECT region, count(*), avg(price) FROM 's3://test-bucket/samples/sales/' WHERE quantity > 5 GROUP BY region ORDER BY 2 DESC LIMIT 10";
    const run = await tm(['query', sql, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const theirs = await duckdb(sql);
    expect(theirs.rows.length).toBeGreaterThan(1);
    const rows = ours(JSON.parse(run.stdout) as ResultPage, theirs.names);
    expect(rows.map((row) => row.map(normalize))).toEqual(
      theirs.rows.map((row) => row.map(normalize)),
    );
  });

  it('prints the result as DuckDB has it', async () => {
    const sql = `SELECT category, count(*) AS c, sum(n) FROM '${DATA}parquet/' WHERE n >= 500 GROUP BY category ORDER BY category`;
    const json = await tm(['query', sql, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const theirs = await duckdb(sql);
    const rows = ours(JSON.parse(json.stdout) as ResultPage, theirs.names);
    expect(rows.map((row) => row.map(normalize))).toEqual(
      theirs.rows.map((row) => row.map(normalize)),
    );
    const table = await tm(['query', sql]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/category\s+c\s+sum\(n\)/);
    expect(table.stdout).toMatch(/cat-0/);
  });

  it('has help, and exits 2 without SQL', async () => {
    const help = await tm(['query', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.startsWith('usage: tm query SQL')).toBe(true);
    expect((await tm(['query'])).code).toBe(2);
  });

  it('exits 2 with the refusal for SQL the job cannot run', async () => {
    const refused = await tm(['query', `SELECT count(*) FROM '${DATA}parquet/' WHERE NOT n = 1`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/WHERE: NOT is not supported/);
  });
});
