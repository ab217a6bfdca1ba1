/**
 * Holds the agent's tasks from `assign` until their end report was written to the control plane,
 * runs each with its executor, and reports every task's end exactly once, whatever throws.
 */
import { taskCost, type Assignment, type TaskRef } from '../protocol/index.ts';
import { FRAME_BUDGET_BYTES } from './coalesce.ts';
import type { OutboxItem } from './coalesce.ts';
import type { Logger } from './logger.ts';
import { SlotGate } from './slot-gate.ts';
import { ProgressThrottle } from './progress-throttle.ts';
import { ReadTotals } from './read-totals.ts';
import { failure, internalFailure } from './task-outcome.ts';
import type { Executors, LogChunk, Progress, TaskOutcome } from './task-outcome.ts';

/** Least time between two progress reports of one task. */
const PROGRESS_INTERVAL_MS = 250;

interface HeldTask {
  assignment: Assignment;
  controller: AbortController;
  /** 'ended' once the outcome is queued; the task stays held until the report is written. */
  phase: 'running' | 'ended';
  progress?: ProgressThrottle<Progress>;
}

/** Why a task's signal was aborted; `replaced` ends it without a report. */
interface AbortCause {
  kind: 'cancel' | 'replaced' | 'shutdown';
  message: string;
}

export interface TaskRunnerOptions {
  executors: Executors;
  /** Where reports go; the runner hears back through delivered(). */
  report(item: OutboxItem): void;
  /** Where progress goes: sent now if connected, dropped if not. */
  progress?(task: TaskRef, figures: Progress): void;
  logger: Logger;
}

/** Largest result that fits a `complete` frame with room for its envelope. */
const MAX_RESULT_BYTES = FRAME_BUDGET_BYTES - 256;

export const DRAINING_MESSAGE = 'the agent is draining and takes no new tasks';

export class TaskRunner {
  private readonly held = new Map<string, HeldTask>();
  /** Every task whose executor has not returned yet, held or replaced. */
  private readonly active = new Set<HeldTask>();
  private readonly waiters = new Set<() => void>();
  private draining = false;
  private ended = { completed: 0, failed: 0 };
  private readonly slots = new SlotGate();
  /** What map tasks read, for /metrics. */
  readonly reads = new ReadTotals();

  constructor(private readonly options: TaskRunnerOptions) {}

  assign(tasks: readonly Assignment[]): void {
    for (const assignment of tasks) this.accept(assignment);
  }

  /** Aborts the named attempts; their end is reported as `fail` with type `cancelled`. */
  cancel(tasks: readonly TaskRef[], reason: string): void {
    for (const ref of tasks) {
      const task = this.held.get(ref.taskId);
      if (task?.assignment.attempt !== ref.attempt || task.phase !== 'running') continue;
      this.abort(task, { kind: 'cancel', message: reason || 'cancelled' });
    }
  }

  /** Takes no more tasks (new ones are refused); running ones finish. */
  drain(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Kills every running task (bye, forced exit); their outcomes are queued but may never leave. */
  abortAll(message: string): void {
    this.draining = true;
    for (const task of this.active) this.abort(task, { kind: 'shutdown', message });
  }

  /** Called with items written to an open socket: a task whose end report left is let go. */
  delivered(items: readonly OutboxItem[]): void {
    for (const item of items) {
      if (item.kind !== 'complete' && item.kind !== 'fail') continue;
      const task = this.held.get(item.task.taskId);
      if (task?.phase === 'ended' && task.assignment.attempt === item.task.attempt) {
        this.held.delete(item.task.taskId);
      }
    }
    this.notify();
  }

  /** Every task still held, running or with its end not yet reported: what `hello` lists. */
  heldTasks(): TaskRef[] {
    return [...this.held.values()].map(({ assignment }) => ({
      taskId: assignment.taskId,
      attempt: assignment.attempt,
    }));
  }

  /** Tasks that ended successfully since the agent started. */
  get completed(): number {
    return this.ended.completed;
  }

  /** Tasks that ended in failure (including refused and cancelled) since the agent started. */
  get failed(): number {
    return this.ended.failed;
  }

  get runningCount(): number {
    return this.active.size;
  }

  /** Running tasks by kind, with a zero for every kind the agent runs. */
  runningByKind(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const kind of Object.keys(this.options.executors)) counts[kind] = 0;
    for (const task of this.active) {
      const kind = task.assignment.spec.kind;
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** Resolves once no executor is running (ends may still wait to be reported). */
  whenSettled(): Promise<void> {
    return this.until(() => this.active.size === 0);
  }

  /** Resolves once nothing is running and every end has been reported. */
  whenIdle(): Promise<void> {
    return this.until(() => this.active.size === 0 && this.held.size === 0);
  }

  private accept(assignment: Assignment): void {
    const current = this.held.get(assignment.taskId);
    if (current !== undefined) {
      // Same attempt again (a resend after reconnect) or an older one: keep what we have.
      if (assignment.attempt <= current.assignment.attempt) return;
      // A newer attempt supersedes ours: the control plane no longer wants the old one's report.
      this.held.delete(assignment.taskId);
      const message = `replaced by attempt ${assignment.attempt}`;
      this.abort(current, { kind: 'replaced', message });
    }
    const task: HeldTask = { assignment, controller: new AbortController(), phase: 'running' };
    this.held.set(assignment.taskId, task);
    this.active.add(task);
    if (this.draining) this.finish(task, failure('refused', DRAINING_MESSAGE));
    else void this.run(task);
  }

  private async run(task: HeldTask): Promise<void> {
    let outcome: TaskOutcome = internalFailure('the executor returned no outcome');
    const { spec, startBelow } = task.assignment;
    const usesSlot = taskCost(spec.kind) > 0;
    let holding = false;
    try {
      holding =
        usesSlot && (await this.slots.enter(startBelow ?? Infinity, task.controller.signal));
      outcome =
        usesSlot && !holding
          ? failure('cancelled', 'cancelled before it started')
          : await this.execute(task);
    } catch (error) {
      outcome = internalFailure(error);
    } finally {
      if (holding) this.slots.leave();
      this.finish(task, outcome);
    }
  }

  private execute(task: HeldTask): TaskOutcome | Promise<TaskOutcome> {
    const { assignment, controller } = task;
    const ref = { taskId: assignment.taskId, attempt: assignment.attempt };
    const progress = new ProgressThrottle(PROGRESS_INTERVAL_MS, (figures: Progress) =>
      this.options.progress?.(ref, figures),
    );
    task.progress = progress;
    const base = {
      assignment,
      signal: controller.signal,
      started: () => {
        this.options.logger.info('task started', {
          task: ref.taskId,
          attempt: ref.attempt,
          job: assignment.jobId,
        });
        this.options.report({ kind: 'started', task: ref });
      },
      log: (chunks: LogChunk[]) => this.options.report({ kind: 'log', task: ref, chunks }),
      progress: (figures: Progress) => {
        if ('rowsRead' in figures) this.reads.report(readKey(assignment), figures);
        progress.report(figures);
      },
    };
    const { executors } = this.options;
    const spec = assignment.spec;
    switch (spec.kind) {
      case 'echo':
        return executors.echo({ ...base, spec });
      case 'command':
        return executors.command({ ...base, spec });
      case 'aggregate-map':
        return executors['aggregate-map']({ ...base, spec });
      case 'aggregate-reduce':
        return executors['aggregate-reduce']({ ...base, spec });
      case 'aggregate-final':
        return executors['aggregate-final']({ ...base, spec });
      case 'pipeline':
        return executors.pipeline({ ...base, spec });
    }
  }

  /** Queues the task's one end report; a replaced task ends silently. */
  private finish(task: HeldTask, outcome: TaskOutcome): void {
    if (task.phase !== 'running') return;
    task.phase = 'ended';
    this.active.delete(task);
    this.reads.end(readKey(task.assignment), task.assignment.spec.kind, outcome);
    if (this.held.get(task.assignment.taskId) === task) this.reportEnd(task, outcome);
    else task.progress?.end(false);
    this.notify();
  }

  private reportEnd(task: HeldTask, outcome: TaskOutcome): void {
    const { taskId, jobId, attempt } = task.assignment;
    const cause = abortCause(task.controller.signal);
    const final = fitted(cause === null ? outcome : failure('cancelled', cause.message));
    // A failed step's last report goes first; a success's end report says it all.
    task.progress?.end(!final.ok);
    if (final.ok) {
      this.ended.completed++;
      const { exitCode, result } = final;
      // Echo probes run by the thousand; only real work earns a line at the default level.
      const level = task.assignment.spec.kind === 'echo' ? 'debug' : 'info';
      this.options.logger[level]('task succeeded', {
        task: taskId,
        job: jobId,
        attempt,
        exitCode,
      });
      this.options.report({ kind: 'complete', task: { taskId, attempt, exitCode, result } });
    } else {
      this.ended.failed++;
      const { exitCode, error } = final;
      this.options.logger.info('task failed', { task: taskId, job: jobId, attempt, error });
      this.options.report({ kind: 'fail', task: { taskId, attempt, exitCode, error } });
    }
  }

  private abort(task: HeldTask, cause: AbortCause): void {
    if (!task.controller.signal.aborted) task.controller.abort(cause);
  }

  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!ready()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}

const readKey = (assignment: Assignment) => `${assignment.taskId}#${assignment.attempt}`;

function abortCause(signal: AbortSignal): AbortCause | null {
  if (!signal.aborted) return null;
  const reason: unknown = signal.reason;
  if (typeof reason === 'object' && reason !== null && 'message' in reason && 'kind' in reason) {
    return reason as AbortCause;
  }
  return { kind: 'cancel', message: 'cancelled' };
}

/** A result too large for one frame could never be delivered; report that instead. */
function fitted(outcome: TaskOutcome): TaskOutcome {
  if (!outcome.ok || outcome.result === undefined) return outcome;
  const bytes = Buffer.byteLength(JSON.stringify(outcome.result));
  if (bytes <= MAX_RESULT_BYTES) return outcome;
  const message = `the result is ${bytes} bytes; a frame holds at most ${MAX_RESULT_BYTES}`;
  return failure('internal', message, { nonRetryable: true });
}
