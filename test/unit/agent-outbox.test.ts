/** The outbox: reports coalesced into few frames within the protocol's limits, and never lost on a drop. */
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  AgentFrame,
  MAX_FRAME_BYTES,
  MAX_LOG_CHUNKS_PER_FRAME,
  MAX_TASKS_PER_FRAME,
} from '../../protocol/index.ts';
import { coalesce } from '../../worker-agent/coalesce.ts';
import type { OutboxItem } from '../../worker-agent/coalesce.ts';
import { Outbox } from '../../worker-agent/outbox.ts';

const ref = (attempt = 1) => ({ taskId: randomUUID(), attempt });
const complete = (task = ref(), result: unknown = null): OutboxItem => ({
  kind: 'complete',
  task: { ...task, result: result as null },
});
const fail = (task = ref()): OutboxItem => ({
  kind: 'fail',
  task: { ...task, exitCode: 1, error: { type: 'exit', message: 'exited with code 1' } },
});

/** Every frame must pass the shared schema and fit a WebSocket frame. */
function expectValid(frames: ReturnType<typeof coalesce>) {
  for (const { frame } of frames) {
    expect(AgentFrame.safeParse(frame).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(frame))).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  }
}

describe('coalesce', () => {
  it('puts same-tick completions and failures into one frame each', () => {
    const items = [complete(), fail(), complete(), fail(), complete()];
    const frames = coalesce(items);
    expect(frames.map(({ frame }) => frame.type)).toEqual(['complete', 'fail']);
    expect(frames[0]?.frame).toMatchObject({ type: 'complete', tasks: { length: 3 } });
    expect(frames[1]?.frame).toMatchObject({ type: 'fail', tasks: { length: 2 } });
    expect(frames.flatMap((frame) => frame.items)).toHaveLength(5);
    expectValid(frames);
  });

  it('orders started, then logs, then ends, so each task reads started → logs → end', () => {
    const task = ref();
    const items: OutboxItem[] = [
      { kind: 'started', task },
      { kind: 'log', task, chunks: [{ stream: 'stdout', data: 'a' }] },
      complete(task),
      { kind: 'started', task: ref() },
    ];
    const frames = coalesce(items);
    expect(frames.map(({ frame }) => frame.type)).toEqual(['started', 'log', 'complete']);
    expect(frames[0]?.frame).toMatchObject({ tasks: { length: 2 } });
    expectValid(frames);
  });

  it('splits batches at MAX_TASKS_PER_FRAME', () => {
    const items = Array.from({ length: MAX_TASKS_PER_FRAME * 2 + 5 }, () => complete());
    const frames = coalesce(items);
    expect(frames.map(({ frame }) => (frame.type === 'complete' ? frame.tasks.length : 0))).toEqual(
      [MAX_TASKS_PER_FRAME, MAX_TASKS_PER_FRAME, 5],
    );
    expectValid(frames);
  });

  it('keeps frames within the byte budget when results are large', () => {
    const big = { blob: 'x'.repeat(300_000) };
    const frames = coalesce([
      complete(ref(), big),
      complete(ref(), big),
      complete(ref(), big),
      complete(ref(), big),
    ]);
    expect(frames.length).toBe(2);
    expectValid(frames);
  });

  it('merges a task’s log items in order and splits at the chunk count and byte budget', () => {
    const task = ref();
    const other = ref();
    const items: OutboxItem[] = [];
    for (let index = 0; index < MAX_LOG_CHUNKS_PER_FRAME + 10; index++) {
      items.push({
        kind: 'log',
        task,
        chunks: [{ stream: index % 2 ? 'stderr' : 'stdout', data: `line ${index}\n` }],
      });
    }
    items.push({ kind: 'log', task: other, chunks: [{ stream: 'stdout', data: 'other' }] });
    const frames = coalesce(items);
    expect(
      frames.map(({ frame }) => frame.type === 'log' && [frame.taskId, frame.chunks.length]),
    ).toEqual([
      [task.taskId, MAX_LOG_CHUNKS_PER_FRAME],
      [task.taskId, 10],
      [other.taskId, 1],
    ]);
    const text = frames
      .filter(({ frame }) => frame.type === 'log' && frame.taskId === task.taskId)
      .flatMap(({ frame }) =>
        frame.type === 'log' ? frame.chunks.map((chunk) => chunk.data) : [],
      );
    expect(text[0]).toBe('line 0\n');
    expect(text.at(-1)).toBe(`line ${MAX_LOG_CHUNKS_PER_FRAME + 9}\n`);
    expectValid(frames);

    // Control characters grow sixfold in JSON: the budget counts the escaped size.
    const noisy = Array.from({ length: 40 }, () => ({
      kind: 'log' as const,
      task,
      chunks: [{ stream: 'stdout' as const, data: '\u0001'.repeat(60_000) }],
    }));
    const noisyFrames = coalesce(noisy);
    expect(noisyFrames.length).toBeGreaterThan(1);
    expectValid(noisyFrames);
  });

  it('returns nothing for nothing', () => {
    expect(coalesce([])).toEqual([]);
  });
});

describe('Outbox', () => {
  /** A fake socket: records frames and settles writes when told. */
  function fakeSocket() {
    const sent: { frame: AgentFrame; done: (error?: Error | null) => void }[] = [];
    return {
      sent,
      send: (text: string, done: (error?: Error | null) => void) =>
        sent.push({ frame: JSON.parse(text), done }),
    };
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('holds items while detached and sends them, coalesced, after attach', async () => {
    const delivered: OutboxItem[] = [];
    const outbox = new Outbox((items) => delivered.push(...items));
    outbox.push(complete());
    outbox.push(complete());
    await tick();
    expect(outbox.size).toBe(2);
    const socket = fakeSocket();
    outbox.attach(socket.send);
    await tick();
    expect(socket.sent.map(({ frame }) => frame.type)).toEqual(['complete']);
    expect(delivered).toEqual([]);
    // Sockets report a successful write with null (or nothing).
    socket.sent[0]?.done(null);
    expect(delivered).toHaveLength(2);
    expect(outbox.size).toBe(0);
  });

  it('coalesces pushes from one tick into one frame', async () => {
    const outbox = new Outbox(() => undefined);
    const socket = fakeSocket();
    outbox.attach(socket.send);
    for (let index = 0; index < 50; index++) outbox.push(complete());
    await tick();
    expect(socket.sent).toHaveLength(1);
    expect(socket.sent[0]?.frame).toMatchObject({ type: 'complete', tasks: { length: 50 } });
  });

  it('puts unconfirmed frames back in front of the queue when the socket drops', async () => {
    const delivered: OutboxItem[] = [];
    const outbox = new Outbox((items) => delivered.push(...items));
    const first = fakeSocket();
    outbox.attach(first.send);
    const early = complete();
    outbox.push(early);
    await tick();
    first.sent[0]?.done(new Error('socket closed'));
    outbox.detach();
    const late = fail();
    outbox.push(late);
    await tick();
    expect(outbox.size).toBe(2);

    const second = fakeSocket();
    outbox.attach(second.send);
    await tick();
    expect(second.sent.map(({ frame }) => frame.type)).toEqual(['complete', 'fail']);
    // A late confirmation from the dead socket changes nothing.
    first.sent[0]?.done();
    expect(delivered).toEqual([]);
    for (const { done } of second.sent) done();
    expect(delivered).toEqual([early, late]);
  });
});
