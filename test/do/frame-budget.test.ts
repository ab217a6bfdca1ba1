/**
 * The frame budget inside the Scheduler: specs over MAX_SPEC_BYTES are refused at submit, and an
 * assignment that no frame can carry is failed with a clear error, never sent to its agent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, MAX_SPEC_BYTES, type JobView } from '../../protocol/index.ts';
import { api, cleanUp, getJob, joinAgent, query, submitJob, waitFor } from './helpers.ts';

afterEach(cleanUp);

describe('the frame budget', () => {
  it('refuses at submit a spec that grows past MAX_SPEC_BYTES when re-encoded', async () => {
    const count = Math.ceil(MAX_SPEC_BYTES / 17) + 100;
    const body = `{"kind":"echo","payload":[${Array.from({ length: count }, () => '9e15').join(',')}]}`;
    const before = await query<{ n: number }>('SELECT count(*) AS n FROM jobs');
    const reply = await api<{ error: { code: string; message: string } }>('POST', '/v1/jobs', body);
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('spec_too_large');
    expect(reply.body.error.message).toContain(String(MAX_SPEC_BYTES));
    expect(await query<{ n: number }>('SELECT count(*) AS n FROM jobs')).toEqual(before);
  });

  it('fails an assignment that would not fit a frame instead of sending it', async () => {
    // Queued while no agent is connected; then its spec grows past a frame, as what the Scheduler
    // adds after submit (inline partials, store access) could make it.
    const job = await submitJob({ kind: 'echo', payload: 'small' });
    await query(
      `UPDATE jobs SET spec = json_set(spec, '$.payload', ?) WHERE id = ?`,
      'x'.repeat(MAX_FRAME_BYTES + 16),
      job.id,
    );
    const { agent } = await joinAgent();
    const failed = await waitFor(async () => {
      const view = await getJob(job.id);
      return view.state === 'failed' ? view : undefined;
    }, 'the job to fail');
    const task = (failed as JobView).tasks?.[0];
    expect(task?.error).toMatch(/bytes of JSON; a frame to an agent carries at most 1048576 bytes/);
    expect(failed.attempts).toMatchObject({ failed: 1, lost: 0 });
    // Nothing was sent, and the agent's socket is open for other work.
    expect(agent.received.filter((frame) => frame.type === 'assign')).toEqual([]);
    const next = await submitJob({ kind: 'echo', payload: 'next' });
    const frame = await agent.nextFrame((f) => f.type === 'assign');
    expect(frame.type === 'assign' && frame.tasks[0]?.jobId).toBe(next.id);
    expect(agent.closeEvent).toBeNull();
  });
});
