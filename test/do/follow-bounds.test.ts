/** Log followers: a long backlog streams in pages, followers are capped, and dropped ones are let go. */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF, runInDurableObject } from 'cloudflare:test';
import type { Core } from '../../durable-objects/core.ts';
import { MAX_FOLLOWERS_PER_SCOPE } from '../../durable-objects/follow.ts';
import {
  ADMIN,
  api,
  assignmentOf,
  cleanUp,
  complete,
  joinAgent,
  sendLog,
  stub,
  submitJob,
  waitFor,
} from './helpers.ts';

afterEach(cleanUp);

const follow = (jobId: string) =>
  SELF.fetch(`http://scheduler.test/v1/jobs/${jobId}/logs?follow=true`, { headers: ADMIN });

/** How many followers the Scheduler holds now. */
const followers = () =>
  runInDurableObject(stub(), (instance) =>
    (instance as unknown as { core: Core }).core.watchers.followers(),
  );

describe('log followers', () => {
  it('streams a backlog longer than a page, then the end line', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    const task = await assignmentOf(agent, job.id);
    // 2,500 one-byte entries: two and a half pages of the backlog.
    for (let sent = 0; sent < 2500; sent += 250)
      sendLog(
        agent,
        task,
        Array.from({ length: 250 }, () => ({ stream: 'stdout' as const, data: 'x' })),
      );
    complete(agent, task);
    await agent.sync();

    const response = await follow(job.id);
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toHaveLength(2501);
    expect(JSON.parse(lines.at(-1)!)).toEqual({ end: true, state: 'succeeded' });
    const seqs = lines.slice(0, -1).map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(new Set(seqs).size).toBe(2500);
  });

  it('refuses a follower past the cap with a 429 naming it, and lets every one go when the job ends', async () => {
    const { agent } = await joinAgent();
    const job = await submitJob({ kind: 'echo' });
    await assignmentOf(agent, job.id);
    const before = await followers();
    const open = [];
    for (let i = 0; i < MAX_FOLLOWERS_PER_SCOPE; i++) {
      const response = await follow(job.id);
      expect(response.status).toBe(200);
      open.push(response);
    }
    expect(await followers()).toBe(before + MAX_FOLLOWERS_PER_SCOPE);

    const refused = await follow(job.id);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toContain(`${MAX_FOLLOWERS_PER_SCOPE} log followers`);

    // Its readers read nothing more; the job's end lets every one of them go all the same.
    expect((await api('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(200);
    await waitFor(async () => (await followers()) === before, 'the followers to go');
    const line = await (await follow(job.id)).text();
    expect(JSON.parse(line)).toEqual({ end: true, state: 'cancelled' });
    for (const response of open) await response.body!.cancel();
  });
});
