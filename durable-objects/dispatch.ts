/** Places queued tasks on connected workers and sends them, one transaction per round. */
import { MAX_FRAME_BYTES, MAX_TASKS_PER_FRAME, type Assignment } from '../protocol/index.ts';
import type { Core } from './core.ts';
import { connectedReadyWorkers, findWorker } from './db/workers.ts';
import { effectiveSlots, executorsOf } from './views.ts';
import {
  mapsAhead,
  placeRoundRobin,
  totalFreeSlots,
  type PlacementTask,
  type PlacementWorker,
} from './placement.ts';
import { assignTasks, failTasks, type AssignedTask } from './task-lifecycle.ts';
import { markJobsStarted, shortestLease } from './db/jobs.ts';
import { lastPlacedWorker, setLastPlacedWorker } from './db/meta.ts';
import { hasTenants } from './db/tenants.ts';
import {
  hasQueued,
  hasQueuedMaps,
  hasQueuedPreferring,
  readyMaps,
  readyFor,
  readyUnpinned,
  tenantsWithQueued,
  workerUsage,
  type QueuedRow,
} from './db/queue.ts';
import { freeWorkers, send } from './dispatch-send.ts';
import { charge, fairOrder } from './fair-share.ts';
import { pipelineQueue } from './pipeline-dispatch.ts';
import { assignBatches, type OversizedAssignment } from './assign-batches.ts';
import { newEffects, type Effects } from './effects.ts';
import { NameList, parseJsonColumn } from './db/json-column.ts';

const ROUND_LIMIT = 4 * MAX_TASKS_PER_FRAME;

/**
 * Assigns as much queued work as free capacity allows and sends it to the agents; returns the
 * effects of failing what could not be sent (for the caller to commit), or null.
 */
export function dispatch(core: Core): Effects | null {
  const { sql } = core;
  if (!hasQueued(sql)) return null;
  const workers = freeWorkers(core);
  const budget = Math.min(
    ROUND_LIMIT,
    workers.reduce((sum, w) => sum + w.freeInflight, 0),
  );
  if (budget <= 0) return null;

  const now = core.now();
  const { tasks: queued, shares, groupCaps } = queuedTasks(core, workers, budget, now);
  if (queued.length === 0) return null;
  const lastWorkerId = lastPlacedWorker(sql);
  const placement = placeRoundRobin({ workers, tasks: queued, lastWorkerId, groupCaps });
  if (placement.assignments.length === 0) return null;

  const assigned = sql.transaction(() => {
    const rows = assignTasks(sql, placement.assignments, now);
    markJobsStarted(sql, new Set(rows.map((row) => row.jobId)), now);
    if (placement.lastWorkerId) setLastPlacedWorker(sql, placement.lastWorkerId);
    return rows;
  });
  charge(
    core.fairClock,
    placement.assignments.flatMap(({ taskId }) => shares.get(taskId) ?? []),
  );
  const ahead = new Set(placement.assignments.flatMap((a) => (a.ahead ? [a.taskId] : [])));
  const refused = send(core, assigned, ahead);
  watch(core, assigned, now);
  return refused;
}

/** Sets the alarm for the deadlines and job leases of what was just assigned. */
function watch(core: Core, assigned: readonly AssignedTask[], now: number): void {
  for (const task of assigned) if (task.deadlineAt !== null) core.wake(task.deadlineAt);
  const jobIds = [...new Set(assigned.map((task) => task.jobId))];
  const leaseMs = shortestLease(core.sql, jobIds);
  if (leaseMs) core.wake(now + leaseMs);
}

function queuedTasks(
  core: Core,
  workers: PlacementWorker[],
  budget: number,
  now: number,
): {
  tasks: PlacementTask[];
  shares: Map<string, { key: string; weight: number }>;
  groupCaps: Map<string, number>;
} {
  // Slot-using and in-process tasks are read with budgets of their own, so a queue of commands
  // no free slot can take never hides the probes behind it.
  const slotBudget = Math.min(budget, totalFreeSlots(workers));
  const tenants = tenantShares(core);
  const pipelines = pipelineQueue(core.sql, now, workers, slotBudget);
  const rows = [
    ...pipelines.rows,
    ...(slotBudget > 0 ? fairly(core, tenants, now, true, slotBudget) : []),
    ...fairly(core, tenants, now, false, budget),
  ];
  for (const worker of workers) {
    if (worker.freeInflight <= 0) continue;
    rows.push(...readyFor(core.sql, now, { id: worker.id, as: 'pinned' }, worker.freeInflight));
  }
  rows.push(...preferredRows(core, now, workers, rows));
  rows.push(...aheadRows(core, now, workers, rows));
  const weights = new Map(tenants.map((t) => [t.tenantId, t.weight]));
  const ordered = inFairOrder(core, rows, tenants);
  return {
    tasks: ordered.map((row) => ({
      id: row.id,
      cost: row.cost,
      needsCommands: row.kind === 'command',
      pinnedWorkerId: row.pinned_worker_id,
      requires:
        row.requires === null ? [] : parseJsonColumn(NameList, row.requires, 'tasks.requires'),
      group: row.pipeline_id,
      preferredWorkerId: row.preferred_worker_id,
      canWait: row.kind === 'aggregate-map',
    })),
    groupCaps: pipelines.caps,
    shares: new Map(
      ordered.map((row) => [
        row.id,
        { key: keyOf(row.tenant_id), weight: weights.get(row.tenant_id) ?? 1 },
      ]),
    ),
  };
}

/**
 * Queued tasks that prefer a worker with room, past the ones already chosen: the oldest queued
 * tasks alone would hand that room to whichever comes first, and locality would rarely hold.
 */
function preferredRows(
  core: Core,
  now: number,
  workers: PlacementWorker[],
  chosenRows: readonly QueuedRow[],
): QueuedRow[] {
  // One probe of the partial index first: most rounds (commands, probes) have no preference, and
  // should not pay a query per worker for it.
  if (!hasQueuedPreferring(core.sql)) return [];
  const chosen = new Set(chosenRows.map((row) => row.id));
  const rows: QueuedRow[] = [];
  for (const worker of workers) {
    const room = Math.min(Math.max(0, worker.freeSlots) + (worker.ahead ?? 0), worker.freeInflight);
    if (room <= 0) continue;
    const candidates = readyFor(core.sql, now, { id: worker.id, as: 'preferred' }, room);
    rows.push(...candidates.filter((row) => !chosen.has(row.id)));
  }
  return rows;
}

/**
 * Unpinned map tasks to hold ahead on workers whose slots are full, past the ones already chosen.
 * One probe of a partial index first: most rounds have no queued map.
 */
function aheadRows(
  core: Core,
  now: number,
  workers: PlacementWorker[],
  chosenRows: readonly QueuedRow[],
): QueuedRow[] {
  const room = workers.reduce(
    (sum, w) => sum + Math.max(0, Math.min(w.ahead ?? 0, w.freeInflight)),
    0,
  );
  if (room <= 0 || !hasQueuedMaps(core.sql)) return [];
  const chosen = new Set(chosenRows.map((row) => row.id));
  return readyMaps(core.sql, now, room + chosen.size)
    .filter((row) => !chosen.has(row.id))
    .slice(0, room);
}

interface TenantShare {
  tenantId: string | null;
  weight: number;
}

/** The fair clock's key of a tenant; the admin's own jobs share as one more tenant. */
const keyOf = (tenantId: string | null) => tenantId ?? '';

/** Tenants with queued work, with their weights. */
function tenantShares(core: Core): TenantShare[] {
  // Without tenants every task is the admin's: one queue, and no probe of the task indexes.
  if (!hasTenants(core.sql)) return [{ tenantId: null, weight: 1 }];
  return tenantsWithQueued(core.sql);
}

/**
 * Up to `limit` ready unpinned tasks (that take a slot when `costly`, else that do not), drawn
 * from the tenants' queues in weighted fair order.
 */
function fairly(
  core: Core,
  tenants: TenantShare[],
  now: number,
  costly: boolean,
  limit: number,
): QueuedRow[] {
  if (tenants.length <= 1) return readyUnpinned(core.sql, now, { costly }, limit);
  const queues = tenantQueues(tenants, (tenantId) =>
    readyUnpinned(core.sql, now, { costly, tenantId }, limit),
  );
  return fairOrder(queues, limit, core.fairClock);
}

/** All candidates in one order: first in, first out within a tenant, fair between tenants. */
function inFairOrder(core: Core, rows: QueuedRow[], tenants: TenantShare[]): QueuedRow[] {
  const byTenant = new Map<string | null, QueuedRow[]>();
  for (const row of rows) {
    const queue = byTenant.get(row.tenant_id);
    if (queue) queue.push(row);
    else byTenant.set(row.tenant_id, [row]);
  }
  const queues = tenantQueues(tenants, (tenantId) =>
    (byTenant.get(tenantId) ?? []).sort((a, b) => a.seq - b.seq),
  );
  return fairOrder(queues, rows.length, core.fairClock);
}

/** Each tenant's queue for the fair order, its tasks from `tasksOf`. */
function tenantQueues(tenants: TenantShare[], tasksOf: (tenantId: string | null) => QueuedRow[]) {
  return tenants.map((tenant) => ({
    key: keyOf(tenant.tenantId),
    weight: tenant.weight,
    tasks: tasksOf(tenant.tenantId),
  }));
}
