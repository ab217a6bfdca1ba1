/** Bounds on agent sockets: a socket that never says hello is closed, and a flood of frames too. */
import { afterEach, describe, expect, it } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import type { Attachment } from '../../durable-objects/sockets.ts';
import type { Core } from '../../durable-objects/core.ts';
import { DEFAULT_FRAME_RATE, type FrameRate } from '../../durable-objects/frame-rate.ts';
import { api, cleanUp, connect, getWorker, joinAgent, stub } from './helpers.ts';

afterEach(cleanUp);

/** Moves every socket still without hello back in time by `ms`, as if it had waited that long. */
const ageSocketsWithoutHello = (ms: number) =>
  runInDurableObject(stub(), (_, state) => {
    for (const socket of state.getWebSockets()) {
      const attachment = socket.deserializeAttachment() as Attachment;
      if (attachment.workerId === null)
        socket.serializeAttachment({
          ...attachment,
          acceptedAt: (attachment.acceptedAt ?? 0) - ms,
        });
    }
  });

describe('sockets without hello', () => {
  it('sets the alarm for the hello deadline and closes a silent socket with 4008 when it passes', async () => {
    const before = Date.now();
    const silent = await connect();
    await silent.nonce();
    const alarm = await runInDurableObject(stub(), (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(alarm!).toBeGreaterThanOrEqual(before);

    const joined = await joinAgent();
    await ageSocketsWithoutHello(60_000);
    await runDurableObjectAlarm(stub());

    expect(await silent.nextFrame('error')).toMatchObject({ code: 'hello_timeout' });
    expect((await silent.closed()).code).toBe(4008);
    await joined.agent.sync();
    expect(joined.agent.closeEvent).toBeNull();
    expect((await getWorker(joined.workerId)).connected).toBe(true);
  });

  it('leaves a socket alone before its deadline', async () => {
    const fresh = await connect();
    await fresh.nonce();
    await runDurableObjectAlarm(stub());
    await fresh.join(`localhost:${20000 + Math.floor(Math.random() * 10000)}`);
    expect(fresh.closeEvent).toBeNull();
  });
});

/**
 * Runs `body` with a lower frame rate: the test runtime handles frames so slowly that the default
 * bucket refills as fast as a flood can empty it (the e2e suite floods the real stack's defaults).
 */
async function withFrameRate(rate: FrameRate, body: () => Promise<void>): Promise<void> {
  const set = (next: FrameRate | null) =>
    runInDurableObject(stub(), (instance) => {
      const { config } = (instance as unknown as { core: Core }).core;
      const previous = config.frameRate;
      config.frameRate = next ?? DEFAULT_FRAME_RATE;
      return previous;
    });
  await set(rate);
  try {
    await body();
  } finally {
    await set(null);
  }
}

describe('frame rate', () => {
  it('closes an agent that floods refused frames with 4029 after an error frame, and drops its worker', async () => {
    const flood = await joinAgent();
    const other = await joinAgent();
    // The attack of the issue: `started` frames for tasks that are not the agent's.
    const bogus = { type: 'started', tasks: [{ taskId: crypto.randomUUID(), attempt: 1 }] };
    await withFrameRate({ burst: 200, perSecond: 20 }, async () => {
      for (let i = 0; i < 300; i++) flood.agent.send(bogus);
      expect(
        await flood.agent.nextFrame((f) => f.type === 'error' && f.code === 'rate_limited'),
      ).toMatchObject({ message: expect.stringContaining('20 frames a second (burst 200)') });
      expect((await flood.agent.closed()).code).toBe(4029);
    });
    expect((await getWorker(flood.workerId)).connected).toBe(false);

    await other.agent.sync();
    expect(other.agent.closeEvent).toBeNull();
    const health = await api<{ ok: boolean; connectedWorkers: number }>('GET', '/v1/health');
    expect(health.body).toMatchObject({ ok: true, connectedWorkers: 1 });
  });

  it('lets an agent send accepted frames by the hundred without closing it', async () => {
    const busy = await joinAgent();
    for (let i = 0; i < 500; i++) busy.agent.send({ type: 'heartbeat' });
    await busy.agent.sync();
    expect(busy.agent.closeEvent).toBeNull();
    expect((await getWorker(busy.workerId)).connected).toBe(true);
  }, 30_000);
});
