/**
 * What an agent reports at an aggregation step's end is checked before it is committed: every
 * object key must be the one the Scheduler gave that attempt (a map's partials under its own
 * attempt folder, a reduce's and the final step's output by their exact names), and inline
 * outputs must fit the allowance the attempt was given. A report that fails is refused: the
 * attempt fails with the reason, so a forged key never reaches the next step or the result.
 */
import {
  FinalResult,
  MapResult,
  MAX_INLINE_BYTES,
  ReduceResult,
  type CompleteFrame,
  type FailFrame,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { findAggregateAttempt } from './db/attempts.ts';
import { AggregateJobSpec } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { finalOutputKey, mapOutputPrefix, reduceOutputKey } from './aggregate-plan.ts';

type CompleteItem = CompleteFrame['tasks'][number];

/** The attempt a report is for, as the Scheduler planned it. */
export interface ReportedAttempt {
  taskId: string;
  jobId: string;
  attempt: number;
  kind: string;
  spec: AggregateJobSpec;
}

/**
 * Why an aggregation step's reported result cannot be committed, or null when it can (and for
 * every other kind of task, whose results nothing reads back as keys).
 */
export function refusedResult(task: ReportedAttempt, result: unknown): string | null {
  const base = task.spec.output.base;
  const allowance = task.spec.inline;
  switch (task.kind) {
    case 'aggregate-map': {
      const parsed = MapResult.safeParse(result);
      if (!parsed.success) return `its result is not a map result: ${issue(parsed.error)}`;
      const folder = mapOutputPrefix(base, task.taskId, task.attempt);
      for (const part of parsed.data.partitions) {
        if (part.index < 0 || part.index >= task.spec.partitions)
          return `partition ${part.index} is not one of the job's ${task.spec.partitions}`;
        if (part.key !== undefined && !part.key.startsWith(folder))
          return `output key ${part.key} is outside this attempt's folder ${folder}`;
      }
      return overAllowance(parsed.data.partitions, allowance?.map ?? 0);
    }
    case 'aggregate-reduce': {
      const parsed = ReduceResult.safeParse(result);
      if (!parsed.success) return `its result is not a reduce result: ${issue(parsed.error)}`;
      const expected = reduceOutputKey(base, task.taskId, task.attempt);
      if (parsed.data.key !== undefined && parsed.data.key !== expected)
        return `output key ${parsed.data.key} is not this attempt's ${expected}`;
      return overAllowance([parsed.data], allowance?.reduce ?? 0);
    }
    case 'aggregate-final': {
      const parsed = FinalResult.safeParse(result);
      if (!parsed.success) return `its result is not a final result: ${issue(parsed.error)}`;
      const expected = finalOutputKey(base, task.jobId, task.attempt);
      if (parsed.data.key !== expected)
        return `result key ${parsed.data.key} is not this attempt's ${expected}`;
      return overAllowance([parsed.data], MAX_INLINE_BYTES);
    }
    default:
      return null;
  }
}

function issue(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  const first = error.issues[0];
  return first ? `${first.path.map(String).join('.') || 'result'}: ${first.message}` : 'invalid';
}

/** Inline outputs over `allowance` bytes in all (their deflated bytes, as the agent counts them). */
function overAllowance(outputs: readonly { inline?: string | undefined }[], allowance: number) {
  let bytes = 0;
  for (const output of outputs) {
    if (output.inline === undefined) continue;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(output.inline) || output.inline.length % 4 !== 0)
      return 'an inline output is not base64';
    bytes += (output.inline.length / 4) * 3 - (output.inline.match(/=*$/)?.[0].length ?? 0);
  }
  return bytes > allowance
    ? `its inline outputs are ${bytes} bytes; this attempt was allowed ${allowance}`
    : null;
}

/** The live aggregation attempts among `items` that this worker holds, with their job's spec. */
export function reportedAttempts(
  sql: Sql,
  workerId: string,
  items: readonly CompleteItem[],
): Map<string, ReportedAttempt> {
  const found = new Map<string, ReportedAttempt>();
  for (const item of items) {
    const row = findAggregateAttempt(sql, { taskId: item.taskId, attempt: item.attempt, workerId });
    if (row)
      found.set(item.taskId, {
        taskId: item.taskId,
        jobId: row.job_id,
        attempt: item.attempt,
        kind: row.kind,
        spec: parseJsonColumn(AggregateJobSpec, row.spec, 'jobs.spec'),
      });
  }
  return found;
}

type FailItem = FailFrame['tasks'][number];

/**
 * Splits a complete frame's reports into those to commit and those refused, each refused one
 * turned into the failure of its attempt with the reason.
 */
export function splitReports(
  sql: Sql,
  workerId: string,
  items: readonly CompleteItem[],
): { accepted: CompleteItem[]; refused: FailItem[] } {
  const attempts = reportedAttempts(sql, workerId, items);
  const accepted: CompleteItem[] = [];
  const refused: FailItem[] = [];
  for (const item of items) {
    const attempt = attempts.get(item.taskId);
    const reason = attempt ? refusedResult(attempt, item.result) : null;
    if (reason === null) accepted.push(item);
    else
      refused.push({
        taskId: item.taskId,
        attempt: item.attempt,
        ...(item.exitCode === undefined ? {} : { exitCode: item.exitCode }),
        error: { type: 'refused', message: `the Scheduler refused this result: ${reason}` },
      });
  }
  return { accepted, refused };
}
