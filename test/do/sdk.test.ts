/** The TypeScript SDK inside workerd: the same TmClient the CLI uses runs in a Worker. */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF } from 'cloudflare:test';
import { TmClient } from '../../cli/sdk/client.ts';
import { TmApiError } from '../../cli/sdk/errors.ts';
import {
  ADMIN_TOKEN,
  assignmentOf,
  cleanUp,
  complete,
  joinAgent,
  uniqueAddress,
} from './helpers.ts';

afterEach(cleanUp);

const client = () =>
  new TmClient('http://scheduler.test', {
    token: ADMIN_TOKEN,
    fetch: (input, init) => SELF.fetch(input as string, init),
  });

describe('TmClient in a Worker', () => {
  it('registers, submits, follows a job to its end and reads the history, all validated by the protocol schemas', async () => {
    const sdk = client();
    const registered = await sdk.registerWorker({ address: uniqueAddress() });
    expect(registered.created).toBe(true);
    expect((await sdk.getWorker(registered.worker.id)).state).toBe('pending');

    const { agent } = await joinAgent();
    const job = await sdk.submitJob({ kind: 'echo', payload: { from: 'a worker' } });
    const task = await assignmentOf(agent, job.id);
    complete(agent, task, { from: 'a worker' });

    const done = await sdk.waitJob(job.id, 5000, 20);
    expect(done).toMatchObject({ state: 'succeeded', attempts: { succeeded: 1 } });
    const view = await sdk.getTask(task.taskId);
    expect(view.result).toEqual({ from: 'a worker' });
    expect(view.history).toMatchObject([{ attempt: 1, outcome: 'succeeded' }]);
  });

  it('raises the API error with its status and code', async () => {
    const error = await client()
      .getJob(crypto.randomUUID())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TmApiError);
    expect(error).toMatchObject({ status: 404, code: 'not_found' });
  });
});
