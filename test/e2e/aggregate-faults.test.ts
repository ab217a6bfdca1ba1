/**
 * End to end with one-slot agents: maps held ahead never run beyond an agent's slot, and an agent
 * killed with SIGKILL in the middle of a map (and holding one ahead) still yields DuckDB's exact result.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { resultAndOracle } from '../support/oracle.ts';

let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  // JSON log lines, which the test reads.
  stack = await startTestStack({
    agents: 3,
    slots: 1,
    s3: true,
    agentArgs: ['--log-format', 'json'],
  });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'faults/', files: 12, rowsPerFile: 30_000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
});

describe('maps held ahead', () => {
  it('hands each one-slot agent a second map at once, which it starts only when the first ends', async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'aggregate',
        source: { store: 'test-bucket', prefix: `${data.prefix}csv/`, format: 'csv' },
        groupBy: ['category'],
        aggregates: [{ op: 'count' }, { op: 'sum', column: 'n' }],
      },
      120,
    );
    expect(job.state).toBe('succeeded');
    const maps = ((await stack.client.getJob(job.id, 100)).tasks ?? []).filter(
      (t) => t.kind === 'aggregate-map',
    );
    // The first dispatch round gave some agent two maps, one of them beyond its one slot.
    const perRound = new Map<string, number>();
    for (const map of maps) {
      const round = `${map.workerId} ${map.assignedAt}`;
      perRound.set(round, (perRound.get(round) ?? 0) + 1);
    }
    expect(Math.max(...perRound.values())).toBe(2);
    // Yet no agent ever ran two tasks at once: its log shows each start after the last end.
    const ids = new Set(maps.map((map) => map.id));
    for (const agent of stack.agents) {
      let running = 0;
      for (const line of readFileSync(agent.logFile, 'utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { message?: string; task?: string };
        if (!entry.task || !ids.has(entry.task)) continue;
        if (entry.message === 'task started') running++;
        else if (entry.message === 'task succeeded' || entry.message === 'task failed') running--;
        expect(running).toBeLessThanOrEqual(1);
      }
    }
    const { ours, theirs } = await resultAndOracle(
      stack.client,
      job.id,
      `SELECT category, count(*), sum(n) FROM read_csv('${data.glob('csv')}') GROUP BY category`,
    );
    expect(ours).toEqual(theirs);
  });
});

describe('aggregation under faults', () => {
  it('survives a SIGKILL of an agent mid-map with the exact same result', async () => {
    const job = await stack.client.submitJob({
      kind: 'aggregate',
      source: { store: 'test-bucket', prefix: `${data.prefix}csv/`, format: 'csv' },
      groupBy: ['category'],
      aggregates: [
        { op: 'count' },
        { op: 'sum', column: 'n' },
        { op: 'count_distinct', column: 'day' },
      ],
    });
    // Catch a map task while it runs, and kill the agent that runs it.
    const victim = await eventually(
      async () => {
        const running = (await stack.client.listTasks('running')).find(
          (t) => t.jobId === job.id && t.kind === 'aggregate-map',
        );
        return running?.workerId ?? undefined;
      },
      'a running map task',
      60_000,
    );
    const address = (await stack.client.getWorker(victim)).address;
    const agent = stack.agents.find((a) => a.address === address)!;
    agent.signal('SIGKILL');
    await agent.exited;
    stack.agents.splice(stack.agents.indexOf(agent), 1);

    const done = await stack.client.waitJob(job.id, 120_000);
    expect(done.error).toBeNull();
    expect(done.state).toBe('succeeded');
    const tasks = (await stack.client.getJob(job.id)).tasks ?? [];
    expect(tasks.some((t) => t.kind === 'aggregate-map' && t.attempt >= 2)).toBe(true);
    expect(tasks.every((t) => t.state === 'succeeded')).toBe(true);

    const { ours, theirs } = await resultAndOracle(
      stack.client,
      job.id,
      `SELECT category, count(*), sum(n), count(DISTINCT day) FROM read_csv('${data.glob('csv')}') GROUP BY category`,
    );
    expect(ours).toEqual(theirs);
  });
});
