/**
 * What an idle cluster wakes for (docs/deploy.md, "What it costs at idle"): while an agent is
 * connected the alarm stands at the oldest heartbeat plus the lease; with no agent and nothing
 * due, no alarm is left set, so a deployed Scheduler sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { alarmAt, api, cleanUp, joinAgent, query, runAlarmNow, stub } from './helpers.ts';

afterEach(cleanUp);

/** The default lease: 3 heartbeats of 5 s (durable-objects/config.ts). */
const LEASE_MS = 15_000;

const heartbeatAt = async (workerId: string) =>
  (
    await query<{ at: number }>(
      `SELECT last_heartbeat_at AS at FROM workers WHERE id = ?`,
      workerId,
    )
  )[0]!.at;

describe('the idle alarm', () => {
  it('follows the heartbeats of a connected agent and is gone once none is connected', async () => {
    await runDurableObjectAlarm(stub());
    expect(await alarmAt()).toBeNull();

    const { agent, workerId } = await joinAgent();
    // First comes the socket's hello deadline (10 s), then the lease of its heartbeats.
    expect(await alarmAt()).toBeLessThanOrEqual((await heartbeatAt(workerId)) + LEASE_MS);
    await runAlarmNow();
    expect(await alarmAt()).toBe((await heartbeatAt(workerId)) + LEASE_MS);

    agent.send({ type: 'heartbeat' });
    await agent.sync();
    const heartbeat = await heartbeatAt(workerId);
    // Run early, as it would at the lease of an older heartbeat: the agent keeps its place and
    // the alarm moves on to the newest heartbeat's lease.
    await runAlarmNow();
    expect(await alarmAt()).toBe(heartbeat + LEASE_MS);
    expect((await api<{ connectedWorkers: number }>('GET', '/v1/health')).body).toMatchObject({
      connectedWorkers: 1,
    });

    agent.close();
    await cleanUp();
    await runAlarmNow();
    expect(await alarmAt()).toBeNull();
    expect(await runDurableObjectAlarm(stub())).toBe(false);
  });
});
