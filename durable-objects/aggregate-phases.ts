/**
 * Moves an aggregation from phase to phase inside the transaction that ends its tasks: when every
 * map has committed, one reduce per partition; when every reduce has, the final step. A task that
 * fails for good ends the whole job at once.
 */
import type { MapResult, ReduceResult, TaskRef } from '../protocol/index.ts';
import type { Sql } from './sql.ts';
import { tellWorker, type Effects } from './effects.ts';
import type { JobRow } from './rows.ts';
import type { AggregateJobSpec, AggregateTaskPart } from './aggregate-store.ts';
import { reduceInputs } from './aggregate-plan.ts';
import { insertTasks } from './jobs-store.ts';

/** Advances the job if its current phase is complete; returns true when it added tasks. */
export function advanceAggregate(sql: Sql, effects: Effects, job: JobRow, now: number): boolean {
  if (job.cancel_requested === 1) return false;
  if (job.n_failed > 0) {
    cancelRest(sql, effects, job.id, now);
    return false;
  }
  if (job.n_succeeded < job.tasks_total || job.phase === 'final') return false;
  const spec = JSON.parse(job.spec) as AggregateJobSpec;
  const next = job.phase === 'map' ? reducePhase(sql, job.id, spec) : finalPhase(sql, job.id);
  if (next.tasks.length === 0) return false;
  insertTasks(sql, job.id, next.kind, next.tasks, now);
  sql.run(`UPDATE jobs SET phase = ? WHERE id = ?`, next.phase, job.id);
  effects.dispatch = true;
  return true;
}

function results<T>(sql: Sql, jobId: string, kind: string): T[] {
  return sql
    .all<{ result: string }>(
      `SELECT result FROM tasks WHERE job_id = ? AND kind = ? AND state = 'succeeded' ORDER BY idx`,
      jobId,
      kind,
    )
    .map((row) => JSON.parse(row.result) as T);
}

function reducePhase(sql: Sql, jobId: string, spec: AggregateJobSpec) {
  const maps = results<MapResult>(sql, jobId, 'aggregate-map');
  const tasks = [];
  for (let partition = 0; partition < spec.partitions; partition++) {
    const inputs = reduceInputs(maps, partition);
    if (inputs.length > 0)
      tasks.push({
        pinnedWorkerId: null,
        spec: { step: 'reduce', partition, inputs } satisfies AggregateTaskPart,
      });
  }
  return { kind: 'aggregate-reduce', phase: 'reduce', tasks };
}

function finalPhase(sql: Sql, jobId: string) {
  const inputs = results<ReduceResult>(sql, jobId, 'aggregate-reduce').map((result) => result.key);
  const part: AggregateTaskPart = { step: 'final', inputs };
  return { kind: 'aggregate-final', phase: 'final', tasks: [{ pinnedWorkerId: null, spec: part }] };
}

/** Cancels the job's unfinished tasks because another one failed for good. */
function cancelRest(sql: Sql, effects: Effects, jobId: string, now: number): void {
  const rows = sql.all<{ id: string; attempt: number; worker_id: string | null }>(
    `UPDATE tasks SET state = 'cancelled', finished_at = ?, error = 'cancelled: another task of this job failed'
     WHERE job_id = ? AND state IN ('queued','assigned','running') RETURNING id, attempt, worker_id`,
    now,
    jobId,
  );
  if (rows.length === 0) return;
  sql.run(`UPDATE jobs SET n_cancelled = n_cancelled + ? WHERE id = ?`, rows.length, jobId);
  const byWorker = new Map<string, TaskRef[]>();
  for (const row of rows) {
    effects.endedTasks.push({ id: row.id, jobId, state: 'cancelled' });
    if (row.worker_id)
      byWorker.set(row.worker_id, [
        ...(byWorker.get(row.worker_id) ?? []),
        { taskId: row.id, attempt: row.attempt },
      ]);
  }
  for (const [workerId, tasks] of byWorker)
    tellWorker(sql, effects, workerId, {
      type: 'cancel',
      tasks,
      reason: 'another task of this job failed',
    });
}
