/** Reading an aggregation's result: the committed final output, as JSON rows or Arrow IPC. */
import {
  DataType,
  tableFromIPC,
  tableToIPC,
  TimeUnit,
  type Table,
  type Timestamp,
  type Vector,
} from 'apache-arrow';
import { jsonBytes, VIEW_BUDGET_BYTES, FinalResult, type ResultPage } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { conflict, notFound, SchedulerError } from './failure.ts';
import { findOwnedJob } from './db/jobs.ts';
import { jobMissing } from './job-missing.ts';
import { succeededResults } from './db/tasks.ts';
import { findStore } from './db/object-stores.ts';
import { getObjectBounded, ObjectTooLargeError, StoreError } from './storage/s3.ts';
import { AggregateJobSpec } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { resultCacheKey } from './result-cache.ts';

/**
 * The largest result object the Scheduler reads back to serve. It decodes the whole table to page
 * it, inside an isolate of 128 MB with a result cache of 32 MiB: a larger result is refused with a
 * 413 that names the limit and the object, which the client reads from the store itself.
 */
export const MAX_RESULT_READ_BYTES = 8 * 1024 * 1024;

/** The result table of a succeeded aggregation (empty when no row matched). */
async function resultTable(core: Core, jobId: string, owner: string | null): Promise<Table | null> {
  const job = findOwnedJob(core.sql, jobId, owner);
  if (!job) throw jobMissing(core.sql, jobId, owner);
  if (job.kind !== 'aggregate')
    throw conflict(`job ${jobId} is a ${job.kind} job; only aggregate jobs have a result table`);
  if (job.state !== 'succeeded')
    throw conflict(`job ${jobId} is ${job.state}; its result exists once it has succeeded`, {
      state: job.state,
    });
  const [final] = succeededResults(core.sql, jobId, 'aggregate-final');
  if (!final) return null;
  const spec = parseJsonColumn(AggregateJobSpec, job.spec, 'jobs.spec');
  const store = findStore(core.sql, spec.output.store);
  if (!store) throw conflict(`the output store of job ${jobId} was deleted`);
  const key = parseJsonColumn(FinalResult, final, 'tasks.result').key;
  const cacheKey = resultCacheKey(store.id, key);
  const cached = core.results.get(cacheKey);
  if (cached) return cached;
  try {
    const bytes = await getObjectBounded(store, key, MAX_RESULT_READ_BYTES);
    const table = tableFromIPC(bytes);
    core.results.set(cacheKey, { table, bytes: bytes.byteLength }, bytes.byteLength);
    return table;
  } catch (error) {
    if (error instanceof ObjectTooLargeError)
      throw new SchedulerError({
        status: 413,
        code: 'payload_too_large',
        message:
          `the result of job ${jobId} is ${error.size ?? `over ${MAX_RESULT_READ_BYTES}`} bytes; ` +
          `the Scheduler serves results of at most ${MAX_RESULT_READ_BYTES} bytes: read object ` +
          `${key} of store ${store.name} from the store`,
        details: { limit: MAX_RESULT_READ_BYTES, size: error.size, store: store.name, key },
      });
    if (error instanceof StoreError)
      throw new SchedulerError({ status: 502, code: 'store_unavailable', message: error.message });
    throw error;
  }
}

export async function resultPage(
  core: Core,
  jobId: string,
  owner: string | null,
  offset = 0,
  limit = 1000,
): Promise<ResultPage> {
  const table = await resultTable(core, jobId, owner);
  if (!table) return { columns: [], rows: [], total: 0, offset, next: null };
  const fields = table.schema.fields;
  const columns = fields.map((field) => table.getChild(field.name));
  const rows: Record<string, unknown>[] = [];
  let end = Math.min(table.numRows, offset + limit);
  let bytes = 0;
  for (let i = offset; i < end; i++) {
    const row: Record<string, unknown> = {};
    fields.forEach((field, c) => {
      const column = columns[c];
      row[field.name] = column ? cellJson(column, i) : null;
    });
    // A page stops at the view budget, as every view does (view-budget.ts).
    bytes += jsonBytes(row);
    if (rows.length > 0 && bytes > VIEW_BUDGET_BYTES) end = i;
    else rows.push(row);
  }
  return {
    columns: fields.map((field) => ({ name: field.name, type: String(field.type) })),
    rows,
    total: table.numRows,
    offset,
    next: end < table.numRows ? end : null,
  };
}

/** The result as an Arrow IPC stream. */
export async function resultArrow(
  core: Core,
  jobId: string,
  owner: string | null,
): Promise<Uint8Array> {
  const table = await resultTable(core, jobId, owner);
  return table ? tableToIPC(table, 'stream') : new Uint8Array();
}

/** JSON for one cell: int64 beyond 2^53 as a string, dates as YYYY-MM-DD, timestamps as ISO with µs. */
export function cellJson(vector: Vector, index: number): unknown {
  if (!vector.isValid(index)) return null;
  if (DataType.isTimestamp(vector.type)) return timestampIso(vector, index);
  const value: unknown = vector.get(index);
  if (DataType.isDate(vector.type)) return new Date(Number(value)).toISOString().slice(0, 10);
  if (typeof value === 'bigint') {
    const safe =
      value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER);
    return safe ? Number(value) : value.toString();
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

const MICROS_PER: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 0n,
};

/** A timestamp cell at microsecond precision (`Z` when the column has a time zone). */
function timestampIso(vector: Vector, index: number): string {
  const type = vector.type as Timestamp;
  let offset = index;
  for (const data of vector.data) {
    if (offset < data.length) {
      const raw = BigInt((data.values as BigInt64Array)[data.offset + offset] ?? 0n);
      const micros = type.unit === TimeUnit.NANOSECOND ? raw / 1000n : raw * MICROS_PER[type.unit];
      const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
      const rest = ((micros % 1000n) + 1000n) % 1000n;
      const iso = new Date(Number(millis)).toISOString();
      return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}${type.timezone ? 'Z' : ''}`;
    }
    offset -= data.length;
  }
  return '';
}
