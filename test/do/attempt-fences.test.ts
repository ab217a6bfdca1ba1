/**
 * The attempt fence of db/attempts.ts, against the Scheduler's real SQLite: an UPDATE whose task,
 * attempt and worker are not the live attempt's writes nothing, and says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { createSql } from '../../durable-objects/db/sql.ts';
import {
  assignTask,
  completeAttempt,
  failAttempt,
  loseAttempt,
  markStarted,
  setProgress,
} from '../../durable-objects/db/attempts.ts';
import { findOwnedTask, jobTaskRowsAfter } from '../../durable-objects/db/tasks.ts';
import { cleanUp, stub, submitJob } from './helpers.ts';

afterEach(cleanUp);

describe('attempt fences', () => {
  it('apply a change only to the live attempt on its worker, and tell by the rows written', async () => {
    // No agent is connected, so the job's task stays queued for this test to assign by hand.
    const job = await submitJob({ kind: 'echo', payload: 'fenced' });
    await runInDurableObject(stub(), (_, state) => {
      const sql = createSql(state.storage);
      const [task] = jobTaskRowsAfter(sql, job.id, -1, 1);
      if (!task) throw new Error('the job has no task');
      const taskId = task.id;
      const now = 1_000;
      expect(assignTask(sql, taskId, 'w1', now, 0)?.attempt).toBe(1);
      expect(assignTask(sql, taskId, 'w2', now, 0)).toBeNull();

      const live = { taskId, attempt: 1, workerId: 'w1' };
      const otherWorker = { ...live, workerId: 'w2' };
      const otherAttempt = { ...live, attempt: 2 };
      expect(markStarted(sql, otherWorker, now)).toBeNull();
      expect(markStarted(sql, live, now)).toMatchObject({ attempt: 1 });
      expect(markStarted(sql, live, now)).toBeNull(); // running already
      expect(setProgress(sql, otherAttempt, '{}')).toBe(false);
      expect(setProgress(sql, live, '{"rowsRead":1}')).toBe(true);
      const end = { error: 'boom', exitCode: 1, notBefore: now + 10, now };
      expect(failAttempt(sql, otherWorker, end)).toBe(false);
      expect(findOwnedTask(sql, taskId, null)?.state).toBe('running');

      expect(failAttempt(sql, live, end)).toBe(true);
      const requeued = findOwnedTask(sql, taskId, null);
      expect(requeued).toMatchObject({ state: 'queued', worker_id: null, failures: 1 });
      // The ended attempt is no longer live: every later report of it writes nothing.
      expect(failAttempt(sql, live, end)).toBe(false);
      expect(loseAttempt(sql, live, { failed: false, losses: 1, error: 'lost', now })).toBe(false);
      expect(
        completeAttempt(sql, live, { exitCode: 0, result: null, resultIsPayload: false, now }),
      ).toBeNull();

      expect(assignTask(sql, taskId, 'w2', now, 0)?.attempt).toBe(2);
      const second = { taskId, attempt: 2, workerId: 'w2' };
      expect(
        completeAttempt(sql, live, { exitCode: 0, result: null, resultIsPayload: false, now }),
      ).toBeNull();
      expect(
        completeAttempt(sql, second, { exitCode: 0, result: '"ok"', resultIsPayload: false, now }),
      ).toMatchObject({ job_id: job.id, started_at: null });
      expect(findOwnedTask(sql, taskId, null)).toMatchObject({
        state: 'succeeded',
        result: '"ok"',
      });
    });
  });
});
