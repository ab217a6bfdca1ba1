/** `{"kind":"aggregate","sql"}` at the edge: mapped and checked as an aggregate job, or a 400. */
import { describe, expect, it } from 'vitest';
import { sqlJob } from '../../src/sql/sql-job.ts';
import { ApiError } from '../../src/errors.ts';

const stores = async () => [{ name: 'test-bucket', bucket: 'test-bucket', prefix: '' }];
const SQL = "SELECT region, count(*) FROM 's3://test-bucket/sales/' GROUP BY region";

async function failure(json: unknown) {
  try {
    await sqlJob(json, stores);
  } catch (error) {
    if (error instanceof ApiError) return error.failure;
    throw error;
  }
  throw new Error('not refused');
}

describe('sqlJob', () => {
  it("maps the SQL and keeps the job's own fields", async () => {
    const job = await sqlJob(
      { kind: 'aggregate', sql: SQL, name: 'by region', partitions: 2, retries: 1 },
      stores,
    );
    expect(job).toEqual({
      kind: 'aggregate',
      name: 'by region',
      partitions: 2,
      retries: 1,
      source: { store: 'test-bucket', prefix: 'sales/', format: 'parquet' },
      groupBy: ['region'],
      aggregates: [{ op: 'count', as: 'count_star()' }],
    });
  });

  it('answers a refusal with 400 and the clause, line and column as details', async () => {
    const refused = await failure({ kind: 'aggregate', sql: `${SQL} LIMIT 1 OFFSET 1` });
    expect(refused).toMatchObject({
      status: 400,
      code: 'bad_request',
      details: { clause: 'LIMIT' },
    });
    const syntax = await failure({ kind: 'aggregate', sql: 'SELECT count(*) FROM' });
    expect(syntax).toMatchObject({
      status: 400,
      details: { clause: 'syntax', line: 1, column: 21 },
    });
  });

  it("refuses the query's fields beside the SQL, and what the job's schema refuses", async () => {
    const extra = await failure({ kind: 'aggregate', sql: SQL, groupBy: ['region'] });
    expect(extra).toMatchObject({
      status: 400,
      message: expect.stringMatching(/unknown field.*groupBy/),
    });
    const twice = await failure({
      kind: 'aggregate',
      sql: "SELECT count(*) AS a, sum(n) AS a FROM 's3://test-bucket/sales/'",
    });
    expect(twice).toMatchObject({
      status: 400,
      message: expect.stringMatching(/two columns named "a"/),
    });
  });
});
