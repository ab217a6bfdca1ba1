/**
 * What the Scheduler stores of the results a `complete` frame reports. An echo result equal to its
 * job's payload is kept as a reference to the job's copy (a 1,000-task echo of 100 KB stored
 * 97 MiB of copies). Any other result counts against its job's MAX_JOB_RESULT_BYTES; one that
 * would pass it fails its attempt, not retried (the same work makes the same result): a task
 * marked succeeded always has the result it reported.
 */
import {
  MAX_JOB_RESULT_BYTES,
  utf8Bytes,
  type CompleteFrame,
  type FailFrame,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { echoPayloadJson } from './db/task-results.ts';
import { findReportTarget } from './db/attempts.ts';

type CompleteItem = CompleteFrame['tasks'][number];
type FailItem = FailFrame['tasks'][number];

/** How a result is stored: its JSON (null: none, or the job's payload), and the bytes it costs. */
export interface StoredResult {
  json: string | null;
  isPayload: boolean;
  bytes: number;
}

export type StoredReport = CompleteItem & { stored: StoredResult };

/**
 * Splits reports into those to store, each with how, and those whose result would pass their
 * job's budget, each turned into the failure of its attempt. Reports of attempts that are not
 * live on `workerId` pass through unpriced: completeTasks ignores them.
 */
export function priceResults(
  sql: Sql,
  workerId: string,
  items: readonly CompleteItem[],
  budget = MAX_JOB_RESULT_BYTES,
): { stored: StoredReport[]; tooLarge: FailItem[] } {
  const payloads = new Map<string, string | null>();
  const charged = new Map<string, number>();
  const stored: StoredReport[] = [];
  const tooLarge: FailItem[] = [];
  for (const item of items) {
    const json = item.result === undefined ? null : JSON.stringify(item.result);
    const target = findReportTarget(sql, { ...item, workerId });
    if (target === null || json === null) {
      stored.push({ ...item, stored: { json, isPayload: false, bytes: 0 } });
      continue;
    }
    if (target.kind === 'echo') {
      if (!payloads.has(target.job_id))
        payloads.set(target.job_id, echoPayloadJson(sql, target.job_id));
      if (payloads.get(target.job_id) === json) {
        stored.push({ ...item, stored: { json: null, isPayload: true, bytes: 0 } });
        continue;
      }
    }
    const bytes = utf8Bytes(json);
    const before = target.result_bytes + (charged.get(target.job_id) ?? 0);
    if (before + bytes > budget) {
      tooLarge.push(resultTooLarge(item, target.job_id, bytes, before, budget));
      continue;
    }
    charged.set(target.job_id, (charged.get(target.job_id) ?? 0) + bytes);
    stored.push({ ...item, stored: { json, isPayload: false, bytes } });
  }
  return { stored, tooLarge };
}

function resultTooLarge(
  item: CompleteItem,
  jobId: string,
  bytes: number,
  stored: number,
  budget: number,
): FailItem {
  return {
    taskId: item.taskId,
    attempt: item.attempt,
    ...(item.exitCode === undefined ? {} : { exitCode: item.exitCode }),
    error: {
      type: 'refused',
      nonRetryable: true,
      message:
        `result_too_large: the result is ${bytes} bytes of JSON, and job ${jobId} has stored ` +
        `${stored} of the ${budget} bytes of results a job may store (MAX_JOB_RESULT_BYTES); ` +
        `write large results to an object store`,
    },
  };
}
