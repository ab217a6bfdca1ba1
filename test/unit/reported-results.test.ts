/** Aggregation reports are checked against the attempt: keys under its own folder, inline within its allowance. */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { refusedResult, type ReportedAttempt } from '../../durable-objects/reported-results.ts';
import type { AggregateJobSpec } from '../../durable-objects/aggregate-store.ts';
import { inlineTable, MAX_INLINE_INFLATED_BYTES } from '../../durable-objects/aggregate-inline.ts';

const spec = {
  source: { store: 's', format: 'parquet' },
  query: { groupBy: [], aggregates: [] },
  partitions: 2,
  inline: { map: 1000, reduce: 1000 },
  output: { store: 's', base: 'out/_tm/jobs/job-1/' },
} as unknown as AggregateJobSpec;

const attempt = (kind: string, taskId = 'task-1'): ReportedAttempt => ({
  taskId,
  jobId: 'job-1',
  attempt: 2,
  kind,
  spec,
});
const inline = (bytes: number) => Buffer.alloc(bytes, 1).toString('base64');
const mapResult = (partitions: unknown[]) => ({
  rowsRead: 1,
  rowsMatched: 1,
  bytesRead: 1,
  partitions,
});

describe('refusedResult', () => {
  it("accepts a map's partials under its attempt folder and inline within its allowance", () => {
    const result = mapResult([
      { index: 0, groups: 1, key: 'out/_tm/jobs/job-1/map/task-1/attempt-2/part-0.arrow' },
      { index: 1, groups: 1, inline: inline(900) },
    ]);
    expect(refusedResult(attempt('aggregate-map'), result)).toBeNull();
  });

  it("refuses a map key outside its attempt's folder: another job's, another attempt's", () => {
    for (const key of [
      'out/_tm/jobs/job-2/map/task-9/attempt-1/part-0.arrow',
      'out/_tm/jobs/job-1/map/task-1/attempt-1/part-0.arrow',
      'elsewhere/secret.arrow',
    ]) {
      const result = mapResult([{ index: 0, groups: 1, key }]);
      expect(refusedResult(attempt('aggregate-map'), result)).toMatch(
        /outside this attempt's folder/,
      );
    }
  });

  it('refuses inline outputs past the allowance, a partition out of range, and a malformed result', () => {
    const big = mapResult([{ index: 0, groups: 1, inline: inline(1001) }]);
    expect(refusedResult(attempt('aggregate-map'), big)).toMatch(/1001 bytes; .* allowed 1000/);
    const wide = mapResult([{ index: 5, groups: 1, inline: inline(1) }]);
    expect(refusedResult(attempt('aggregate-map'), wide)).toMatch(/partition 5/);
    expect(refusedResult(attempt('aggregate-map'), { partitions: 'x' })).toMatch(
      /not a map result/,
    );
  });

  it('holds reduce and final outputs to their exact names', () => {
    const reduceKey = 'out/_tm/jobs/job-1/reduce/task-1/attempt-2.arrow';
    expect(refusedResult(attempt('aggregate-reduce'), { groups: 1, key: reduceKey })).toBeNull();
    expect(
      refusedResult(attempt('aggregate-reduce'), { groups: 1, key: 'other/job/result.arrow' }),
    ).toMatch(/not this attempt's/);
    const finalKey = 'out/_tm/jobs/job-1/result-job-1.attempt-2.arrow';
    expect(refusedResult(attempt('aggregate-final'), { groups: 1, key: finalKey })).toBeNull();
    expect(
      refusedResult(attempt('aggregate-final'), {
        groups: 1,
        key: 'out/_tm/jobs/job-1/result-job-2.attempt-1.arrow',
      }),
    ).toMatch(/not this attempt's/);
  });

  it("leaves other kinds' results alone", () => {
    expect(refusedResult(attempt('echo'), { anything: 1 })).toBeNull();
  });
});

describe('inlineTable', () => {
  it('refuses an inline result that inflates past its bound instead of inflating it', () => {
    const bomb = deflateRawSync(Buffer.alloc(MAX_INLINE_INFLATED_BYTES + 1)).toString('base64');
    expect(() => inlineTable(bomb)).toThrow(/maxOutputLength|larger than/i);
  });
});
