/**
 * Chaos: 1,000 command tasks and an aggregation run while an agent is SIGKILLed every few seconds
 * and a new one started. Every task ends exactly once, and the aggregation equals DuckDB's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import type { TaskView } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { startChaos } from '../support/chaos.ts';
import { resultAndOracle } from '../support/oracle.ts';

const TASKS = 1000;
let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  stack = await startTestStack({
    agents: 3,
    slots: 4,
    s3: true,
    vars: { TM_HEARTBEAT_MS: '500', TM_LEASE_MS: '2000' },
  });
  stack.writeScript('chaos-task.sh', '#!/bin/sh\nsleep 0.1\necho "done $TM_TASK_ID $TM_ATTEMPT"\n');
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'chaos/', files: 12, rowsPerFile: 20_000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
});

/** Reads every task with its history, a few requests at a time. */
async function allTasks(ids: readonly string[]): Promise<TaskView[]> {
  const tasks: TaskView[] = [];
  for (let i = 0; i < ids.length; i += 25)
    tasks.push(...(await Promise.all(ids.slice(i, i + 25).map((id) => stack.client.getTask(id)))));
  return tasks;
}

describe('chaos', () => {
  it('ends every task exactly once and aggregates exactly while agents are killed and replaced', async () => {
    const commands = await stack.client.submitJob({
      kind: 'command',
      command: './chaos-task.sh',
      workers: TASKS,
    });
    const aggregate = await stack.client.submitJob({
      kind: 'aggregate',
      source: { store: 'test-bucket', prefix: `${data.prefix}parquet/`, format: 'parquet' },
      groupBy: ['category'],
      aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }, { op: 'max', column: 'k' }],
    });
    const chaos = startChaos(stack, 2500);
    const [commandsDone, aggregateDone] = await Promise.all([
      stack.client.waitJob(commands.id, 300_000),
      stack.client.waitJob(aggregate.id, 300_000),
    ]);
    const kills = await chaos.stop();

    expect(kills).toBeGreaterThan(0);
    expect(commandsDone).toMatchObject({
      state: 'succeeded',
      counts: { succeeded: TASKS, failed: 0, cancelled: 0, queued: 0, running: 0 },
    });
    // The job counts each accepted completion: one per task, none taken twice.
    expect(commandsDone.attempts.succeeded).toBe(TASKS);
    expect(commandsDone.attempts.failed).toBe(0);
    const tasks = await allTasks((commandsDone.tasks ?? []).map((t) => t.id));
    expect(new Set(tasks.map((t) => t.id)).size).toBe(TASKS);
    for (const task of tasks) {
      const successes = task.history?.filter((h) => h.outcome === 'succeeded') ?? [];
      // One committed attempt, and it is the one the task reports.
      expect(successes.map((h) => h.attempt)).toEqual([task.attempt]);
      expect(task.history?.at(-1)?.outcome).toBe('succeeded');
    }
    // The monkey hit running work: some attempts were lost, and none of them counted as failures.
    const lost = tasks.flatMap((t) => t.history ?? []).filter((h) => h.outcome === 'lost');
    expect(lost.length).toBeGreaterThan(0);
    expect(tasks.flatMap((t) => t.history ?? []).some((h) => h.outcome === 'failed')).toBe(false);

    expect(aggregateDone.error).toBeNull();
    expect(aggregateDone.state).toBe('succeeded');
    const { ours, theirs } = await resultAndOracle(
      stack.client,
      aggregate.id,
      `SELECT category, count(*), sum(n), max(k) FROM read_parquet('${data.glob('parquet')}') GROUP BY category`,
    );
    expect(ours).toEqual(theirs);
  });
});
