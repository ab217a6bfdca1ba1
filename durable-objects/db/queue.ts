/**
 * The dispatch round's reads of the queue: queued tasks ready at `now` (not waiting out a retry
 * backoff), by the slice each part of the round reads with a budget of its own, and the cheap
 * probes that let a round skip a slice with nothing in it.
 */
import { z } from 'zod';
import { LIVE_TASK_STATES } from './rows.ts';
import type { Sql } from './sql.ts';

export const QueuedRow = z.object({
  seq: z.number().int(),
  tenant_id: z.string().nullable(),
  id: z.string(),
  kind: z.string(),
  cost: z.number().int(),
  pinned_worker_id: z.string().nullable(),
  pipeline_id: z.string().nullable(),
  requires: z.string().nullable(),
  preferred_worker_id: z.string().nullable(),
});
export type QueuedRow = z.infer<typeof QueuedRow>;

const READY = `SELECT seq, tenant_id, id, kind, cost, pinned_worker_id, pipeline_id, requires,
  preferred_worker_id FROM tasks
  WHERE state = 'queued' AND (not_before IS NULL OR not_before <= ?)`;

const Found = z.object({ found: z.number() });
const probe = (sql: Sql, where: string) =>
  sql.row(Found, `SELECT 1 AS found FROM tasks WHERE ${where} LIMIT 1`) !== null;

export const hasQueued = (sql: Sql) => probe(sql, `state = 'queued'`);
export const hasQueuedPreferring = (sql: Sql) =>
  probe(sql, `state = 'queued' AND preferred_worker_id IS NOT NULL`);

const MAPS = `kind = 'aggregate-map' AND pinned_worker_id IS NULL`;
export const hasQueuedMaps = (sql: Sql) => probe(sql, `state = 'queued' AND ${MAPS}`);

/**
 * Ready tasks for any worker (neither pinned nor of a pipeline), oldest first: those that take a
 * slot (`costly`) or those that do not; of one tenant when `tenantId` is given (null: the admin's).
 */
export function readyUnpinned(
  sql: Sql,
  now: number,
  slice: { costly: boolean; tenantId?: string | null },
  limit: number,
): QueuedRow[] {
  const cost = slice.costly ? 'cost > 0' : 'cost = 0';
  const unpinned = `${READY} AND pinned_worker_id IS NULL AND pipeline_id IS NULL AND ${cost}`;
  return slice.tenantId === undefined
    ? sql.rows(QueuedRow, `${unpinned} ORDER BY seq LIMIT ?`, now, limit)
    : sql.rows(
        QueuedRow,
        `${unpinned} AND tenant_id IS ? ORDER BY seq LIMIT ?`,
        now,
        slice.tenantId,
        limit,
      );
}

/** Ready tasks pinned to a worker, or that prefer it, oldest first. */
export function readyFor(
  sql: Sql,
  now: number,
  worker: { id: string; as: 'pinned' | 'preferred' },
  limit: number,
): QueuedRow[] {
  const column = worker.as === 'pinned' ? 'pinned_worker_id' : 'preferred_worker_id';
  return sql.rows(
    QueuedRow,
    `${READY} AND ${column} = ? ORDER BY seq LIMIT ?`,
    now,
    worker.id,
    limit,
  );
}

/** Ready unpinned aggregation maps, oldest first. */
export function readyMaps(sql: Sql, now: number, limit: number): QueuedRow[] {
  return sql.rows(QueuedRow, `${READY} AND ${MAPS} ORDER BY seq LIMIT ?`, now, limit);
}

/** Ready tasks of a pipeline whose `requires` (as stored) is one of `requires`, oldest first. */
export function readyOfPipeline(
  sql: Sql,
  now: number,
  pipelineId: string,
  requires: readonly string[],
  limit: number,
): QueuedRow[] {
  return sql.rows(
    QueuedRow,
    `${READY} AND pipeline_id = ? AND requires IN (SELECT value FROM json_each(?))
     ORDER BY seq LIMIT ?`,
    now,
    pipelineId,
    JSON.stringify(requires),
    limit,
  );
}

/** Per worker: the live attempts it holds and the slots they cost. */
export function workerUsage(sql: Sql): Map<string, { n: number; cost: number }> {
  const rows = sql.rows(
    z.object({ worker_id: z.string(), n: z.number().int(), cost: z.number().int() }),
    `SELECT worker_id, count(*) AS n, sum(cost) AS cost FROM tasks
     WHERE state IN ${LIVE_TASK_STATES} GROUP BY worker_id`,
  );
  return new Map(rows.map((row) => [row.worker_id, row]));
}

/** Tenants with queued work, with their weights; the admin's own tasks as tenant null. */
export function tenantsWithQueued(sql: Sql): { tenantId: string | null; weight: number }[] {
  // One index probe per tenant (tasks_tenant_queue), not a DISTINCT over the whole queue, which
  // cost every dispatch round time in proportion to the queue.
  return sql.rows(
    z.object({ tenantId: z.string().nullable(), weight: z.number() }),
    `SELECT NULL AS tenantId, 1 AS weight
       WHERE EXISTS (SELECT 1 FROM tasks WHERE state = 'queued' AND tenant_id IS NULL)
     UNION ALL
     SELECT id AS tenantId, weight FROM tenants t
       WHERE EXISTS (SELECT 1 FROM tasks WHERE state = 'queued' AND tenant_id = t.id)`,
  );
}

/** Pipelines with queued tasks: their maxConcurrency and how many of their tasks run. */
export function pipelinesWithQueued(sql: Sql): { id: string; max: number; running: number }[] {
  return sql.rows(
    z.object({ id: z.string(), max: z.number(), running: z.number().int() }),
    `SELECT p.id, json_extract(v.definition, '$.maxConcurrency') AS max,
       (SELECT count(*) FROM tasks t WHERE t.pipeline_id = p.id AND t.state IN ${LIVE_TASK_STATES}) AS running
     FROM pipelines p JOIN pipeline_versions v ON v.pipeline_id = p.id AND v.version = p.version
     WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.pipeline_id = p.id AND t.state = 'queued')`,
  );
}
