/**
 * Moves an aggregation from phase to phase inside the transaction that ends its tasks: when every
 * map has committed, one reduce per partition; when every reduce has, the final step. A task that
 * fails for good ends the whole job at once.
 */
import type { z } from 'zod';
import { MapResult, ReduceResult } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { Effects } from './effects.ts';
import { cancelJobTasks } from './task-lifecycle.ts';
import type { JobRow } from './db/rows.ts';
import { AggregateJobSpec, type AggregateTaskPart } from './aggregate-store.ts';
import { parseJsonColumn } from './db/json-column.ts';
import { reduceInputs, stepInputs, type StepInputs } from './aggregate-plan.ts';
import { insertTasks, succeededResults } from './db/tasks.ts';
import { countTaskEnds, setPhase } from './db/jobs.ts';
import { recordSplitReads } from './split-reads.ts';

/** Advances the job if its current phase is complete; returns true when it added tasks. */
export function advanceAggregate(sql: Sql, effects: Effects, job: JobRow, now: number): boolean {
  if (job.cancel_requested === 1) return false;
  if (job.n_failed > 0) {
    cancelRest(sql, effects, job.id, now);
    return false;
  }
  if (job.n_succeeded < job.tasks_total || job.phase === 'final') return false;
  const spec = parseJsonColumn(AggregateJobSpec, job.spec, 'jobs.spec');
  if (job.phase === 'map') recordSplitReads(sql, job.id, spec.source.store, now);
  const next = job.phase === 'map' ? afterMaps(sql, job.id, spec) : finalPhase(sql, job.id);
  if (next.tasks.length === 0) return false;
  insertTasks(sql, job.id, next.kind, next.tasks, now);
  setPhase(sql, job.id, next.phase);
  effects.dispatch = true;
  return true;
}

function results<T>(sql: Sql, jobId: string, kind: string, schema: z.ZodType<T>): T[] {
  return succeededResults(sql, jobId, kind).map((result) =>
    parseJsonColumn(schema, result, 'tasks.result'),
  );
}

/**
 * One reduce per partition; or, when every partial came back inline (so all of them together fit
 * one spec, see inlineAllowance), the final step straight away, merging them: one step and one
 * round trip less.
 */
function afterMaps(sql: Sql, jobId: string, spec: AggregateJobSpec) {
  const maps = results(sql, jobId, 'aggregate-map', MapResult);
  const partials = stepInputs(maps.flatMap((map) => map.partitions));
  if (partials.inputs.length > 0 || partials.inline.length === 0) return reducePhase(maps, spec);
  return finalStep({ step: 'final', ...stepPart(partials), partials: true });
}

function reducePhase(maps: MapResult[], spec: AggregateJobSpec) {
  const tasks = [];
  for (let partition = 0; partition < spec.partitions; partition++) {
    const found = reduceInputs(maps, partition);
    if (found.inputs.length + found.inline.length > 0)
      tasks.push({
        pinnedWorkerId: null,
        spec: { step: 'reduce', partition, ...stepPart(found) } satisfies AggregateTaskPart,
      });
  }
  return { kind: 'aggregate-reduce', phase: 'reduce', tasks };
}

function finalPhase(sql: Sql, jobId: string) {
  const reduced = stepInputs(results(sql, jobId, 'aggregate-reduce', ReduceResult));
  return finalStep({ step: 'final', ...stepPart(reduced) });
}

function finalStep(part: AggregateTaskPart) {
  return { kind: 'aggregate-final', phase: 'final', tasks: [{ pinnedWorkerId: null, spec: part }] };
}

/** A step's inputs as stored in its task: `inline` only when some are, as most jobs' specs were. */
function stepPart({ inputs, inline }: StepInputs): { inputs: string[]; inline?: string[] } {
  return inline.length > 0 ? { inputs, inline } : { inputs };
}

/** Cancels the job's unfinished tasks because another one failed for good. */
function cancelRest(sql: Sql, effects: Effects, jobId: string, now: number): void {
  // Counted here: these ends happen while the job's counters are being settled.
  const count = cancelJobTasks(
    sql,
    effects,
    jobId,
    now,
    'cancelled: another task of this job failed',
  );
  if (count > 0) countTaskEnds(sql, jobId, { succeeded: 0, failed: 0, cancelled: count });
}
