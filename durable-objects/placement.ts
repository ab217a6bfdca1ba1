/** Round-robin placement with locality: a pure function from queued tasks and free workers to assignments. */

export interface PlacementWorker {
  id: string;
  /** Free slots for tasks that use one (commands). */
  freeSlots: number;
  /** How many more tasks of any kind the worker may hold at once. */
  freeInflight: number;
  /** How many tasks that can wait (`canWait`) it may hold beyond its free slots (none when absent). */
  ahead?: number;
  acceptsCommands: boolean;
  /** What pipeline steps the worker can run (none when absent). */
  executors?: readonly string[];
  /** Whether its agent takes records from peers (stream tasks need it). */
  streams?: boolean;
}

export interface PlacementTask {
  id: string;
  /** Slots the task uses while it runs: 1 for commands, 0 for in-process echo probes. */
  cost: number;
  needsCommands: boolean;
  /** Set when the task must run on this one worker. */
  pinnedWorkerId: string | null;
  /** Executors the worker must all have (a pipeline task runs every step on one agent). */
  requires?: readonly string[];
  /** The pipeline the task belongs to, whose running tasks `groupCaps` limits. */
  group?: string | null;
  /** The worker that already read this task's input (locality): tried first, never waited for. */
  preferredWorkerId?: string | null;
  /** The task may wait on its agent for a slot (a map, held ahead so it starts without a round trip). */
  canWait?: boolean;
}

export interface PlacementInput {
  /** Ready workers, in a stable order (registration order). */
  workers: readonly PlacementWorker[];
  /** Queued tasks in queue order. */
  tasks: readonly PlacementTask[];
  /** The worker that took the last unpinned task, so the rotation carries across rounds. */
  lastWorkerId: string | null;
  /** How many more tasks of each group may start now; groups not listed have no cap. */
  groupCaps?: ReadonlyMap<string, number>;
}

export interface PlacementResult {
  /** `ahead` marks a task placed beyond the worker's free slots, to wait there for one. */
  assignments: { taskId: string; workerId: string; ahead?: true }[];
  lastWorkerId: string | null;
}

/** Slots free across `workers` for tasks that use one, each worker's bounded by its inflight room. */
export function totalFreeSlots(workers: readonly PlacementWorker[]): number {
  return workers.reduce((sum, w) => sum + Math.max(0, Math.min(w.freeSlots, w.freeInflight)), 0);
}

/**
 * How many more maps a worker of `slots` may hold beyond its slots, with `freeSlots` of them free
 * (negative: that many already held): one per slot, so that the next map starts the moment one
 * ends there, not a round trip to the Scheduler later, on every slot. With one per agent, the
 * second of two slots that ended close together waited that round trip (~18 ms on a loaded
 * 2-core machine). Maps are short and many; other kinds are never held ahead.
 */
export function mapsAhead(slots: number, freeSlots: number): number {
  return Math.max(0, slots + Math.min(0, freeSlots));
}

/**
 * Places each task on the next worker in rotation that has room for it and every executor it
 * needs. Pinned tasks go to their worker or wait; unpinned ones rotate, starting after
 * `lastWorkerId`; a group at its cap waits. A task whose preferred worker has room goes there
 * first, before the rotation hands that room to others; when it has none, the task rotates like
 * any other rather than wait. Only then, and only if no other task waits for room, tasks that
 * can wait go to workers with room ahead: to their preferred worker only, when it is here.
 * Deterministic.
 */
export function placeRoundRobin(input: PlacementInput): PlacementResult {
  const workers = input.workers.map((worker) => ({ ...worker }));
  const byId = new Map(workers.map((worker, index) => [worker.id, index]));
  const assignments: PlacementResult['assignments'] = [];
  let cursor = nextIndex(byId.get(input.lastWorkerId ?? '') ?? -1, workers.length);
  let lastWorkerId = input.lastWorkerId;
  const caps = new Map(input.groupCaps);
  const placed = new Set<string>();

  for (const task of input.tasks) {
    const preferred = task.pinnedWorkerId === null ? workerOf(task.preferredWorkerId) : undefined;
    if (preferred && !capped(task) && fits(preferred, task)) take(preferred, task);
  }
  for (const task of input.tasks) {
    if (placed.has(task.id) || capped(task)) continue;
    if (task.pinnedWorkerId !== null) {
      const worker = workerOf(task.pinnedWorkerId);
      if (worker && fits(worker, task)) take(worker, task);
      continue;
    }
    for (let step = 0; step < workers.length; step++) {
      const index = (cursor + step) % workers.length;
      const worker = workers[index];
      if (worker && fits(worker, task)) {
        take(worker, task);
        lastWorkerId = worker.id;
        cursor = nextIndex(index, workers.length);
        break;
      }
    }
  }
  if (!input.tasks.some((task) => !placed.has(task.id) && !capped(task) && !task.canWait)) {
    // A task whose preferred worker is here waits for that one's room ahead: held elsewhere it
    // would read its input afresh, while in the queue it still gets the first free slot anywhere.
    for (const task of input.tasks) {
      if (placed.has(task.id) || !task.canWait || task.pinnedWorkerId !== null || capped(task))
        continue;
      const preferred = workerOf(task.preferredWorkerId);
      const worker = preferred ?? workers.find((candidate) => fitsAhead(candidate, task));
      if (worker && fitsAhead(worker, task)) take(worker, task, true);
    }
  }
  return { assignments, lastWorkerId };

  function workerOf(id: string | null | undefined): PlacementWorker | undefined {
    return id ? workers[byId.get(id) ?? -1] : undefined;
  }

  function capped(task: PlacementTask): boolean {
    return Boolean(task.group) && (caps.get(task.group ?? '') ?? 1) <= 0;
  }

  function take(worker: PlacementWorker, task: PlacementTask, ahead = false) {
    placed.add(task.id);
    if (ahead) worker.ahead = (worker.ahead ?? 0) - 1;
    else worker.freeSlots -= task.cost;
    worker.freeInflight -= 1;
    const cap = task.group ? caps.get(task.group) : undefined;
    if (task.group && cap !== undefined) caps.set(task.group, cap - 1);
    assignments.push({ taskId: task.id, workerId: worker.id, ...(ahead ? { ahead } : {}) });
  }
}

function fits(worker: PlacementWorker, task: PlacementTask, room = worker.freeSlots): boolean {
  if (worker.freeInflight < 1) return false;
  if (task.cost > 0 && room < task.cost) return false;
  if (task.needsCommands && !worker.acceptsCommands) return false;
  return (task.requires ?? []).every((name) => worker.executors?.includes(name));
}

/** Room for `task` held ahead: what the worker may hold beyond its free slots. */
function fitsAhead(worker: PlacementWorker, task: PlacementTask): boolean {
  return fits(worker, task, worker.ahead ?? 0);
}

function nextIndex(index: number, length: number): number {
  return length === 0 ? 0 : (index + 1) % length;
}
