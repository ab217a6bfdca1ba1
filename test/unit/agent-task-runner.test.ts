/** The task runner: one end report per task whatever happens, attempts, cancel, drain, held until sent. */
import { describe, expect, it } from 'vitest';
import type { OutboxItem } from '../../worker-agent/coalesce.ts';
import { createLogger } from '../../worker-agent/logger.ts';
import { DRAINING_MESSAGE, TaskRunner } from '../../worker-agent/task-runner.ts';
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
  it('sends the first report at once and the latest of a burst when the interval ends', async () => {
    const sent: unknown[] = [];
    const runner = new TaskRunner({
      logger: createLogger({ write: () => undefined }),
      report: () => undefined,
      progress: (_task, figures) => sent.push(figures),
      executors: {
        echo: (context) => {
          for (let i = 1; i <= 3; i++) context.progress({ rowsRead: i, bytesRead: 0 });
          return { ok: true };
        },
        command: unused,
        'aggregate-map': unused,
        'aggregate-reduce': unused,
        'aggregate-final': unused,
        pipeline: unused,
      },
    });
    runner.assign([assignment({ kind: 'echo' })]);
    await settle();
    expect(sent).toEqual([{ rowsRead: 1, bytesRead: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(sent).toEqual([
      { rowsRead: 1, bytesRead: 0 },
      { rowsRead: 3, bytesRead: 0 },
    ]);
  });
});
