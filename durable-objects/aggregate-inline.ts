/**
 * Outputs a map or reduce handed back inline (base64 Arrow IPC in its result, see
 * MAX_INLINE_BYTES): shown by size in the API, and forgotten once their job has ended, when
 * nothing reads them again, so a finished job keeps a few bytes per task rather than its partials.
 */
import { inflateRawSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { FinalResult } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { JobRow } from './db/rows.ts';
import { rewriteResultAndSpec, succeededResults, tasksWithInline } from './db/tasks.ts';
import { AggregateJobSpec } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { resultCacheKey, type Decoded } from './result-cache.ts';

/** `value` with every inline output replaced by its size in bytes (`inlineBytes`). */
export function withoutInline(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutInline);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    if (name === 'inline' && typeof field === 'string') out.inlineBytes = base64Size(field);
    else if (name === 'inline' && Array.isArray(field)) out.inline = [];
    else out[name] = withoutInline(field);
  }
  return out;
}

/** The number of bytes `base64` encodes. */
function base64Size(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}

/** Drops the job's inline outputs from its tasks' results and specs (in the job's ending transaction). */
export function forgetInlineOutputs(sql: Sql, jobId: string): void {
  for (const row of tasksWithInline(sql, jobId))
    rewriteResultAndSpec(sql, row.id, forget(row.result), forget(row.spec));
}

function forget(json: string | null): string | null {
  return json === null ? null : JSON.stringify(withoutInline(JSON.parse(json)));
}

/**
 * The result a job's final step handed back inline, under its cache key (output store and object
 * key), read before forgetInlineOutputs drops it; null when the result was too large for that.
 */
export function inlineResult(sql: Sql, job: JobRow): { key: string; inline: string } | null {
  const [result] = succeededResults(sql, job.id, 'aggregate-final');
  const final = result ? parseJsonColumn(FinalResult, result, 'tasks.result') : null;
  if (!final?.inline) return null;
  const spec = parseJsonColumn(AggregateJobSpec, job.spec, 'jobs.spec');
  return { key: resultCacheKey(spec.output.store, final.key), inline: final.inline };
}

/**
 * Most bytes an inline result inflates to: the agent hands one back inline only below 2 MiB raw
 * (aggregate-reduce.ts), so a larger one is a deflate bomb, refused by zlib before it is made.
 */
export const MAX_INLINE_INFLATED_BYTES = 8 * 1024 * 1024;

/** The table of an inline output, and the size of its IPC bytes (throws past the bound above). */
export function inlineTable(base64: string): Decoded {
  const deflated = Buffer.from(base64, 'base64');
  const bytes = new Uint8Array(
    inflateRawSync(deflated, { maxOutputLength: MAX_INLINE_INFLATED_BYTES }),
  );
  return { table: tableFromIPC(bytes), bytes: bytes.byteLength };
}
