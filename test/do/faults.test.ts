/**
 * Fault policy inside the Scheduler: retry backoff, attempt history, lost-agent limits, per-job
 * leases, attempt and job timeouts, and the bounded queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import {
  alarmAt,
  api,
  assignmentOf,
  cleanUp,
  complete,
  fail,
  getJob,
  getTask,
  joinAgent,
  query,
  runAlarmNow,
  stub,
  submitJob,
  type TestAgent,
  waitFor,
} from './helpers.ts';

afterEach(cleanUp);

/** Reports the attempt started and waits until the Scheduler has read that. */
async function started(agent: TestAgent, task: { taskId: string; attempt: number }) {
  agent.send({ type: 'started', tasks: [{ taskId: task.taskId, attempt: task.attempt }] });
  await agent.sync();
}

const assignedTo = (agent: TestAgent, jobId: string) =>
  agent.inbox.some((f) => f.type === 'assign' && f.tasks.some((t) => t.jobId === jobId));

describe('retry backoff', () => {
  it('holds a failed task back for its backoff, with the alarm set for it, then runs it again', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo', retries: 2, retryBackoff: { initialSeconds: 60 } });
    const first = await assignmentOf(agent, job.id);
    const failedAt = Date.now();
    fail(agent, first, 'flaky');
    await agent.sync();

    const [row] = await query<{ state: string; not_before: number }>(
      `SELECT state, not_before FROM tasks WHERE id = ?`,
      first.taskId,
    );
    expect(row?.state).toBe('queued');
    // Jitter keeps the first delay between half and all of initialSeconds.
    expect(row!.not_before).toBeGreaterThanOrEqual(failedAt + 30_000);
    expect(row!.not_before).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await alarmAt()).toBeLessThanOrEqual(row!.not_before);
    expect(assignedTo(agent, job.id)).toBe(false);

    await query(`UPDATE tasks SET not_before = ? WHERE id = ?`, Date.now() - 1, first.taskId);
    await runAlarmNow();
    expect(await assignmentOf(agent, job.id)).toMatchObject({ taskId: first.taskId, attempt: 2 });
  });

  it('doubles the delay with each failure, up to maxSeconds', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({
      kind: 'echo',
      retries: 5,
      retryBackoff: { initialSeconds: 0.001, maxSeconds: 0.002 },
    });
    let task = await assignmentOf(agent, job.id);
    for (let attempt = 1; attempt <= 3; attempt++) {
      fail(agent, task, `boom ${attempt}`);
      // Polled, not read after a round trip: under CI load the test runtime was seen handing the
      // Scheduler a socket's frames out of order (the round trip's before the failure, once).
      const row = await waitFor(
        async () =>
          (
            await query<{ not_before: number; failed_at: number }>(
              `SELECT t.not_before, a.finished_at AS failed_at FROM task_attempts a
               JOIN tasks t ON t.id = a.task_id WHERE a.task_id = ? AND a.attempt = ?`,
              task.taskId,
              attempt,
            )
          )[0],
        `attempt ${attempt}'s failure`,
      );
      // 1 ms, then 2 ms (the cap), with jitter: never more than the cap after the failure.
      expect(row.not_before - row.failed_at).toBeLessThanOrEqual(2);
      // The alarm brings the task back; run it here rather than wait on a loaded machine's clock.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await runDurableObjectAlarm(stub());
      task = await assignmentOf(agent, job.id);
      expect(task.attempt).toBe(attempt + 1);
    }
    complete(agent, task);
    await agent.sync();
    expect((await getJob(job.id)).state).toBe('succeeded');
  });

  it('rejects a backoff whose start exceeds its cap', async () => {
    const { status, body } = await api<{ error: { message: string } }>('POST', '/v1/jobs', {
      kind: 'echo',
      retryBackoff: { initialSeconds: 10, maxSeconds: 1 },
    });
    expect(status).toBe(400);
    expect(body.error.message).toContain('initialSeconds must not exceed');
  });
});

describe('attempt history', () => {
  it('tells a failed attempt from a lost agent and a success, with each worker', async () => {
    const one = await joinAgent();
    const job = await submitJob({ kind: 'echo', retries: 1, retryBackoff: { initialSeconds: 0 } });
    const first = await assignmentOf(one.agent, job.id);
    fail(one.agent, first, 'exit 1');
    const second = await assignmentOf(one.agent, job.id);
    one.agent.close();
    const two = await joinAgent();
    const third = await assignmentOf(two.agent, job.id);
    complete(two.agent, third, 'done');
    await two.agent.sync();

    const task = await getTask(second.taskId);
    expect(task).toMatchObject({ state: 'succeeded', attempt: 3, result: 'done' });
    expect(task.history?.map((a) => [a.attempt, a.outcome, a.workerId])).toEqual([
      [1, 'failed', one.workerId],
      [2, 'lost', one.workerId],
      [3, 'succeeded', two.workerId],
    ]);
    expect(task.history?.[0]).toMatchObject({ error: 'exit 1', exitCode: 1 });
    expect(task.history?.[1]?.error).toMatch(/agent connection closed/);
    expect(task.history?.every((a) => a.assignedAt !== null && a.finishedAt !== null)).toBe(true);
  });
});

describe('lost agents', () => {
  it('runs a task again after a lost agent without spending its retries, up to maxLostAttempts', async () => {
    const job = await submitJob({ kind: 'echo', retries: 0, maxLostAttempts: 1 });
    const a = await joinAgent();
    const first = await assignmentOf(a.agent, job.id);
    await started(a.agent, first);
    a.agent.close();
    const b = await joinAgent();
    const second = await assignmentOf(b.agent, job.id);
    expect(second).toMatchObject({ taskId: first.taskId, attempt: 2 });
    await started(b.agent, second);
    b.agent.close();

    const ended = await waitFor(async () => {
      const view = await getJob(job.id);
      return view.state === 'failed' ? view : null;
    }, 'the job to fail');
    expect(ended.state).toBe('failed');
    expect(ended.error).toMatch(/lost its agent 2 times .*maxLostAttempts is 1/);
    const task = await getTask(first.taskId);
    expect(task.history?.map((h) => h.outcome)).toEqual(['lost', 'lost']);
  });

  it('requeues a task lost before it started without using up its maxLostAttempts', async () => {
    const job = await submitJob({ kind: 'echo', retries: 0, maxLostAttempts: 0 });
    const agents = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const next = await joinAgent();
      expect(await assignmentOf(next.agent, job.id)).toMatchObject({ attempt });
      next.agent.close();
      agents.push(next);
    }
    const last = await joinAgent();
    const fourth = await assignmentOf(last.agent, job.id);
    complete(last.agent, fourth, 'ran');
    await last.agent.sync();
    expect((await getJob(job.id)).state).toBe('succeeded');
    const [row] = await query<{ losses: number }>(
      `SELECT losses FROM tasks WHERE id = ?`,
      fourth.taskId,
    );
    expect(row?.losses).toBe(0);
    const task = await getTask(fourth.taskId);
    expect(task.history?.map((h) => h.outcome)).toEqual(['lost', 'lost', 'lost', 'succeeded']);
    expect(task.history?.[0]?.error).toMatch(/before it started: not counted/);
  });

  it('counts a started task lost with its agent, failing it past maxLostAttempts 0', async () => {
    const job = await submitJob({ kind: 'echo', retries: 0, maxLostAttempts: 0 });
    const a = await joinAgent();
    const first = await assignmentOf(a.agent, job.id);
    await started(a.agent, first);
    a.agent.close();
    const ended = await waitFor(async () => {
      const view = await getJob(job.id);
      return view.state === 'failed' ? view : null;
    }, 'the job to fail');
    expect(ended.error).toMatch(/lost its agent 1 times .*maxLostAttempts is 0/);
  });

  it('does not count a deregistered worker against maxLostAttempts', async () => {
    const job = await submitJob({ kind: 'echo', maxLostAttempts: 0 });
    const a = await joinAgent();
    const first = await assignmentOf(a.agent, job.id);
    expect((await api('DELETE', `/v1/workers/${a.workerId}?force=true`)).status).toBe(200);
    const b = await joinAgent();
    const again = await assignmentOf(b.agent, job.id);
    expect(again).toMatchObject({ taskId: first.taskId, attempt: 2 });
    complete(b.agent, again);
    await b.agent.sync();
    expect((await getJob(job.id)).state).toBe('succeeded');
  });
});

describe("a job's own lease", () => {
  it("moves a job's tasks off an agent silent past the job's lease, leaving the worker connected", async () => {
    const silent = await joinAgent();
    const job = await submitJob({ kind: 'echo', leaseSeconds: 1 });
    const first = await assignmentOf(silent.agent, job.id);
    expect(await alarmAt()).toBeLessThanOrEqual(Date.now() + 1000);
    await query(
      `UPDATE workers SET last_heartbeat_at = ? WHERE id = ?`,
      Date.now() - 2000,
      silent.workerId,
    );
    const live = await joinAgent();
    await runAlarmNow();

    expect(await silent.agent.nextFrame('cancel')).toMatchObject({
      tasks: [{ taskId: first.taskId, attempt: 1 }],
      reason: expect.stringContaining("job's lease"),
    });
    expect(silent.agent.closeEvent).toBeNull();
    const again = await assignmentOf(live.agent, job.id);
    expect(again).toMatchObject({ taskId: first.taskId, attempt: 2 });
    complete(silent.agent, first, 'late');
    complete(live.agent, again, 'on time');
    await live.agent.sync();
    await silent.agent.sync();
    expect(await getTask(first.taskId)).toMatchObject({ state: 'succeeded', result: 'on time' });
  });
});

describe('timeouts', () => {
  it('fails an attempt its agent never answers once it is past timeout plus grace, and stops it', async () => {
    const { agent, workerId } = await joinAgent();
    const job = await submitJob({ kind: 'echo', timeoutSeconds: 2 });
    const task = await assignmentOf(agent, job.id);
    const [row] = await query<{ deadline_at: number; assigned_at: number }>(
      `SELECT deadline_at, assigned_at FROM tasks WHERE id = ?`,
      task.taskId,
    );
    // The agent enforces the timeout itself; the control plane waits a grace period past it.
    expect(row!.deadline_at - row!.assigned_at).toBe(2000 + 5000);
    expect(await alarmAt()).toBeLessThanOrEqual(row!.deadline_at);

    await query(`UPDATE tasks SET deadline_at = ? WHERE id = ?`, Date.now() - 1, task.taskId);
    await runAlarmNow();

    expect(await agent.nextFrame('cancel')).toMatchObject({
      tasks: [{ taskId: task.taskId, attempt: 1 }],
      reason: 'timed out',
    });
    const ended = await getJob(job.id);
    expect(ended).toMatchObject({ state: 'failed' });
    expect(ended.error).toMatch(/timed out: no result from its agent within 2 s/);
    expect((await getTask(task.taskId)).history).toMatchObject([
      { attempt: 1, outcome: 'timed_out', workerId },
    ]);
  });

  it('stops a job past its own timeout: unfinished tasks are cancelled and it fails saying why', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo', count: 3, jobTimeoutSeconds: 30 });
    await assignmentOf(agent, job.id);
    const [row] = await query<{ deadline_at: number; created_at: number }>(
      `SELECT deadline_at, created_at FROM jobs WHERE id = ?`,
      job.id,
    );
    expect(row!.deadline_at - row!.created_at).toBe(30_000);
    expect(await alarmAt()).toBeLessThanOrEqual(row!.deadline_at);

    // Travel 30 s ahead: the job was created that long ago.
    await query(
      `UPDATE jobs SET created_at = created_at - 30001, deadline_at = deadline_at - 30001 WHERE id = ?`,
      job.id,
    );
    await runAlarmNow();

    const cancel = await agent.nextFrame('cancel');
    expect(cancel).toMatchObject({ reason: 'job timed out after 30 s' });
    expect(await getJob(job.id)).toMatchObject({
      state: 'failed',
      error: 'job timed out after 30 s',
      counts: { cancelled: 3, queued: 0, running: 0 },
    });
  });
});

describe('bounded queue', () => {
  it('refuses a submission that would overfill the queue with 429, Retry-After and the numbers', async () => {
    // TM_MAX_QUEUED_TASKS is 2000 in the test bindings.
    const ok = await submitJob({ kind: 'echo', count: 1500 });
    const { status, body, headers } = await api<{
      error: { code: string; message: string; details: unknown };
    }>('POST', '/v1/jobs', { kind: 'echo', count: 600 });
    expect(status).toBe(429);
    expect(headers.get('retry-after')).toBe('5');
    expect(body.error).toMatchObject({
      code: 'rate_limited',
      details: { queued: 1500, limit: 2000, adding: 600 },
    });
    expect(body.error.message).toContain('retry when the queue is shorter');
    expect((await api('POST', `/v1/jobs/${ok.id}/cancel`)).status).toBe(200);
    expect((await submitJob({ kind: 'echo', count: 600 })).counts.queued).toBe(600);
  });
});
