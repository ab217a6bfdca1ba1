/** The task runner: one end report per task whatever happens, attempts, cancel, drain, held until sent. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutboxItem } from '../../worker-agent/coalesce.ts';
import { createLogger } from '../../worker-agent/logger.ts';
import { DRAINING_MESSAGE, TaskRunner } from '../../worker-agent/task-runner.ts';
import { ProgressThrottle } from '../../worker-agent/progress-throttle.ts';
import { failure } from '../../worker-agent/task-outcome.ts';
import type { Executors, TaskContext, TaskOutcome } from '../../worker-agent/task-outcome.ts';
import { runEcho } from '../../worker-agent/executors/echo.ts';
import { assignment, commandSpec } from './agent-helpers.ts';

/** Executors these tests never reach. */
const unused = () => failure('internal', 'not used in these tests');

/** A runner whose command executor waits for the test to end each task (or its abort). */
function setup(command?: Executors['command']) {
  const reports: OutboxItem[] = [];
  const pending = new Map<string, { context: TaskContext; end: (outcome: TaskOutcome) => void }>();
  const runner = new TaskRunner({
    logger: createLogger({ write: () => undefined }),
    report: (item) => reports.push(item),
    executors: {
      echo: runEcho,
      command:
        command ??
        ((context) =>
          new Promise<TaskOutcome>((resolve) => {
            context.started();
            pending.set(context.assignment.taskId, { context, end: resolve });
            context.signal.addEventListener('abort', () =>
              resolve({ ok: false, error: { type: 'exit', message: 'killed' } }),
            );
          })),
      'aggregate-map': unused,
      'aggregate-reduce': unused,
      'aggregate-final': unused,
      pipeline: unused,
    },
  });
  const ends = () => reports.filter((item) => item.kind === 'complete' || item.kind === 'fail');
  return { runner, reports, pending, ends };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('TaskRunner', () => {
  it('counts running tasks by kind, with a zero for every kind it runs', async () => {
    const { runner, pending } = setup();
    runner.assign([assignment(commandSpec('true')), assignment(commandSpec('true'))]);
    await settle();
    expect(runner.runningByKind()).toEqual({
      echo: 0,
      command: 2,
      'aggregate-map': 0,
      'aggregate-reduce': 0,
      'aggregate-final': 0,
      pipeline: 0,
    });
    for (const { end } of pending.values()) end({ ok: true, exitCode: 0 });
    await settle();
    expect(runner.runningByKind().command).toBe(0);
  });

  it('completes echo tasks with their payload and holds them until delivered', async () => {
    const { runner, ends } = setup();
    const first = assignment({ kind: 'echo', payload: { n: 1 } });
    const second = assignment({ kind: 'echo' });
    runner.assign([first, second]);
    await settle();
    expect(ends()).toEqual([
      { kind: 'complete', task: { taskId: first.taskId, attempt: 1, result: { n: 1 } } },
      { kind: 'complete', task: { taskId: second.taskId, attempt: 1, result: null } },
    ]);
    expect(runner.heldTasks()).toHaveLength(2);
    runner.delivered(ends());
    expect(runner.heldTasks()).toEqual([]);
    expect(runner.completed).toBe(2);
  });

  it('reports exactly one fail when an executor throws, synchronously or not', async () => {
    const { runner, ends } = setup(() => {
      throw new Error('boom');
    });
    const task = assignment(commandSpec('true'));
    runner.assign([task]);
    await settle();
    expect(ends()).toEqual([
      {
        kind: 'fail',
        task: {
          taskId: task.taskId,
          attempt: 1,
          exitCode: undefined,
          error: { type: 'internal', message: 'agent error: boom' },
        },
      },
    ]);
    const rejecting = setup(() => Promise.reject(new Error('later')));
    rejecting.runner.assign([assignment(commandSpec('true'))]);
    await settle();
    expect(rejecting.ends()).toMatchObject([
      { kind: 'fail', task: { error: { type: 'internal' } } },
    ]);
  });

  it('ignores a repeated attempt and silently replaces an older one', async () => {
    const { runner, pending, ends } = setup();
    const first = assignment(commandSpec('sleep 1'), 1);
    runner.assign([first]);
    runner.assign([first]);
    await settle();
    expect(pending.size).toBe(1);
    const firstContext = pending.get(first.taskId)?.context;

    const second = { ...first, attempt: 2 };
    runner.assign([second]);
    await settle();
    expect(firstContext?.signal.aborted).toBe(true);
    expect(runner.heldTasks()).toEqual([{ taskId: first.taskId, attempt: 2 }]);
    // The replaced attempt ended without a report; an older resend is ignored too.
    runner.assign([first]);
    await settle();
    expect(ends()).toEqual([]);
    pending.get(first.taskId)?.end({ ok: true, exitCode: 0 });
    await settle();
    expect(ends()).toMatchObject([{ kind: 'complete', task: { attempt: 2, exitCode: 0 } }]);
  });

  it('reports a cancelled task as fail/cancelled, once', async () => {
    const { runner, ends, reports } = setup();
    const task = assignment(commandSpec('sleep 1'));
    runner.assign([task]);
    await settle();
    expect(reports.map((item) => item.kind)).toEqual(['started']);
    runner.cancel([{ taskId: task.taskId, attempt: 2 }], 'wrong attempt');
    await settle();
    expect(ends()).toEqual([]);
    runner.cancel([{ taskId: task.taskId, attempt: 1 }], 'job cancelled');
    runner.cancel([{ taskId: task.taskId, attempt: 1 }], 'again');
    await settle();
    expect(ends()).toEqual([
      {
        kind: 'fail',
        task: {
          taskId: task.taskId,
          attempt: 1,
          exitCode: undefined,
          error: { type: 'cancelled', message: 'job cancelled' },
        },
      },
    ]);
    expect(runner.failed).toBe(1);
  });

  it('starts a task held ahead (startBelow) only once fewer slot tasks run, and never one cancelled while it waits', async () => {
    const { runner, ends, reports, pending } = setup();
    const first = assignment(commandSpec('one'));
    const ahead = { ...assignment(commandSpec('two')), startBelow: 1 };
    const cancelled = { ...assignment(commandSpec('three')), startBelow: 1 };
    runner.assign([first, ahead, cancelled]);
    // Echo probes use no slot: they pass tasks that wait for one.
    runner.assign([assignment({ kind: 'echo' })]);
    await settle();
    expect([...pending.keys()]).toEqual([first.taskId]);
    expect(ends()).toHaveLength(1);
    runner.cancel([{ taskId: cancelled.taskId, attempt: 1 }], 'job cancelled');
    await settle();
    expect(ends().at(-1)).toMatchObject({
      kind: 'fail',
      task: { taskId: cancelled.taskId, error: { type: 'cancelled', message: 'job cancelled' } },
    });
    pending.get(first.taskId)!.end({ ok: true, exitCode: 0 });
    await settle();
    expect([...pending.keys()]).toEqual([first.taskId, ahead.taskId]);
    const started = reports.flatMap((item) => (item.kind === 'started' ? [item.task.taskId] : []));
    expect(started).toEqual([first.taskId, ahead.taskId]);
    pending.get(ahead.taskId)!.end({ ok: true, exitCode: 0 });
    await settle();
    expect(runner.completed).toBe(3);
  });

  it('refuses new tasks while draining and resolves when all is reported', async () => {
    const { runner, pending, ends } = setup();
    const running = assignment(commandSpec('sleep 1'));
    runner.assign([running]);
    await settle();
    runner.drain();
    const late = assignment({ kind: 'echo' });
    runner.assign([late]);
    expect(ends()).toEqual([
      {
        kind: 'fail',
        task: {
          taskId: late.taskId,
          attempt: 1,
          exitCode: undefined,
          error: { type: 'refused', message: DRAINING_MESSAGE },
        },
      },
    ]);
    let idle = false;
    void runner.whenIdle().then(() => (idle = true));
    pending.get(running.taskId)?.end({ ok: true, exitCode: 0 });
    await runner.whenSettled();
    await settle();
    expect(idle).toBe(false);
    runner.delivered(ends());
    await settle();
    expect(idle).toBe(true);
    expect(runner.heldTasks()).toEqual([]);
  });

  it('turns a result too large for a frame into a non-retryable failure', async () => {
    const { runner, ends } = setup();
    runner.assign([assignment({ kind: 'echo', payload: 'x'.repeat(2 * 1024 * 1024) })]);
    await settle();
    expect(ends()).toMatchObject([
      {
        kind: 'fail',
        task: {
          error: {
            type: 'internal',
            nonRetryable: true,
            message: expect.stringMatching(/result is/),
          },
        },
      },
    ]);
  });
});

describe('TaskRunner progress', () => {
  /** A runner whose echo executor reports `figures` at once and then ends as `outcome` after `ms`. */
  function reporting(outcome: TaskOutcome, ms: number) {
    const events: string[] = [];
    const runner = new TaskRunner({
      logger: createLogger({ write: () => undefined }),
      report: (item) => events.push(item.kind),
      progress: (_task, figures) =>
        events.push(`progress ${'rowsRead' in figures ? figures.rowsRead : '?'}`),
      executors: {
        echo: async (context) => {
          for (let i = 1; i <= 3; i++) context.progress({ rowsRead: i, bytesRead: 0 });
          await new Promise((resolve) => setTimeout(resolve, ms));
          return outcome;
        },
        command: unused,
        'aggregate-map': unused,
        'aggregate-reduce': unused,
        'aggregate-final': unused,
        pipeline: unused,
      },
    });
    runner.assign([assignment({ kind: 'echo' })]);
    return { runner, events };
  }

  it('sends none for a task that succeeds within the interval: its end report says it all', async () => {
    const { runner, events } = reporting({ ok: true }, 10);
    await runner.whenSettled();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(events).toEqual(['complete']);
  });

  it("sends a failed task's latest report just before its fail report", async () => {
    const { runner, events } = reporting(failure('exit', 'step 2 failed'), 10);
    await runner.whenSettled();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(events).toEqual(['progress 3', 'fail']);
  });

  it('sends the latest of a burst an interval after the start, and nothing after the end', async () => {
    const { runner, events } = reporting({ ok: true }, 400);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(events).toEqual([]);
    await runner.whenSettled();
    expect(events).toEqual(['progress 3', 'complete']);
  });
});

describe('ProgressThrottle', () => {
  afterEach(() => vi.useRealTimers());

  it('sends at most one report per interval, the first an interval after it was made', () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const throttle = new ProgressThrottle(250, (value: number) => sent.push(value));
    throttle.report(1);
    vi.advanceTimersByTime(249);
    expect(sent).toEqual([]);
    throttle.report(2);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([2]);
    vi.advanceTimersByTime(300);
    throttle.report(3);
    expect(sent).toEqual([2, 3]);
    throttle.report(4);
    throttle.report(5);
    vi.advanceTimersByTime(249);
    expect(sent).toEqual([2, 3]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([2, 3, 5]);
  });

  it('at its end sends what it holds only when told to, and nothing after', () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const dropped = new ProgressThrottle(250, (value: number) => sent.push(value));
    dropped.report(1);
    dropped.end(false);
    const flushed = new ProgressThrottle(250, (value: number) => sent.push(value * 10));
    flushed.report(2);
    flushed.end(true);
    flushed.report(3);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([20]);
  });
});
