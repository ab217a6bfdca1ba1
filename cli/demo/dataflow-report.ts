/**
 * The dataflow demo's verdict, from the ended job's view: the sink's records/s and latency, the
 * stream group's restarts, the DDL barriers, and the sink's count and checksum beside the sum of
 * the producers' (their last run's). Results are parsed, never cast.
 */
import { relative } from 'node:path';
import { z } from 'zod';
import type { JobView } from '../../protocol/index.ts';
import { renderFields, renderTable } from '../format/table.ts';

const Counted = z.object({ count: z.number(), checksum: z.number() });
const SinkResult = Counted.extend({
  dupes: z.number(),
  ddls: z.number(),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), max: z.number() }),
  seconds: z.number(),
  recordsPerSecond: z.number(),
  file: z.string(),
});
const ProducerResult = Counted.extend({ ddls: z.number() });
const SyncerResult = z.object({ ddls: z.number(), mismatches: z.number() });

export interface SeedReport {
  lines: string[];
  /** The sink holds exactly what the producers produced. */
  equal: boolean;
}

/** The results of a stage's instances, parsed with `schema`; a missing one is an error. */
function resultsOf<T>(job: JobView, stage: string, schema: z.ZodType<T>): T[] {
  const tasks = (job.tasks ?? []).filter((t) => t.stage?.name === stage);
  if (tasks.length === 0) throw new Error(`job ${job.id} has no stage "${stage}"`);
  return tasks.map((task) => {
    const parsed = schema.safeParse(task.result);
    if (!parsed.success)
      throw new Error(`${stage}#${task.stage?.instance} left no result the demo can read`);
    return parsed.data;
  });
}

const n = (value: number) => value.toLocaleString('en');

export function seedReport(job: JobView): SeedReport {
  const [sink] = resultsOf(job, 'sink', SinkResult);
  if (!sink) throw new Error(`job ${job.id} has no sink result`);
  const producers = resultsOf(job, 'producer', ProducerResult);
  const syncers = resultsOf(job, 'syncer', SyncerResult);
  const produced = {
    count: producers.reduce((sum, p) => sum + p.count, 0),
    checksum: producers.reduce((sum, p) => (sum + p.checksum) % 2 ** 32, 0),
  };
  const equal =
    sink.count === produced.count && sink.checksum === produced.checksum && sink.dupes === 0;
  const restarts = Math.max(0, ...(job.stages ?? []).map((s) => s.restarts));
  const ddls = producers.reduce((sum, p) => sum + p.ddls, 0);
  const { p50, p95, max } = sink.latencyMs;
  const table = renderTable(
    ['', 'records', 'checksum'],
    [
      { '': 'producers (sum)', records: produced.count, checksum: produced.checksum },
      { '': 'sink', records: sink.count, checksum: sink.checksum },
    ],
  );
  const outOfSchema = syncers.reduce((sum, s) => sum + s.mismatches, 0);
  const fields = renderFields([
    [
      'records/s',
      `${n(sink.recordsPerSecond)} (${n(sink.count)} records in ${sink.seconds.toFixed(1)} s)`,
    ],
    ['latency', `p50 ${p50} ms, p95 ${p95} ms, max ${max} ms (production → sink)`],
    [
      'restarts',
      `${restarts}${restarts > 0 ? ' (the whole stream group ran again from the start)' : ''}`,
    ],
    [
      'DDLs',
      `${ddls}, each held at a barrier until every syncer (${syncers.length}) reached it (${outOfSchema} records out of schema)`,
    ],
    ['sink file', relative(process.cwd(), sink.file) || sink.file],
  ]);
  return {
    equal,
    lines: [
      ...fields.split('\n'),
      '',
      ...table.split('\n'),
      '',
      equal
        ? 'equal: the sink holds every produced record exactly once'
        : `NOT equal: the sink's count or checksum differs from the producers' (${n(sink.dupes)} duplicates)`,
    ],
  };
}
