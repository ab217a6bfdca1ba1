/** End to end: an agent killed with SIGKILL in the middle of a map still yields DuckDB's exact result. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../worker-agent/storage/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { resultAndOracle } from '../support/oracle.ts';

let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  stack = await startTestStack({ agents: 3, slots: 1, s3: true });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'faults/', files: 12, rowsPerFile: 30_000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
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
