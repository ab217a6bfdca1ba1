/** A stream task's plan: its inputs counted, its downstream instances' data addresses in order. */
import { describe, expect, it } from 'vitest';
import { streamPlan } from '../../durable-objects/stream-plan.ts';
import type { Stage } from '../../protocol/index.ts';

const cmd = (name: string, more: Partial<Stage> = {}): Stage =>
  ({ name, kind: 'command', command: 'true', ...more }) as Stage;
const spec = {
  stages: [
    cmd('p', { parallelism: 3 }),
    cmd('q', { parallelism: 2, streamFrom: ['p'], key: 'k' }),
    cmd('r', { streamFrom: ['p', 'q'] }),
  ],
};
const gang = { epoch: 2, secret: 'ab'.repeat(32) };
const id = (n: number) => `00000000-0000-7000-8000-00000000000${n}`;
const peers = (stage: number) =>
  stage === 1
    ? [
        { id: id(1), address: 'host-a:50051', data_port: 4001 },
        { id: id(2), address: '[::1]:50052', data_port: 4002 },
      ]
    : [{ id: id(3), address: 'host-c:50053', data_port: 4003 }];

describe('streamPlan', () => {
  it('sends a producer to each downstream stage, keyed where the stage says, at data ports', () => {
    const plan = streamPlan(spec, 0, gang, peers)!;
    expect(plan.inputs).toBe(0);
    expect(plan.outputs).toEqual([
      {
        stage: 'q',
        key: 'k',
        peers: [
          { taskId: id(1), address: 'host-a:4001' },
          { taskId: id(2), address: '[::1]:4002' },
        ],
      },
      { stage: 'r', peers: [{ taskId: id(3), address: 'host-c:4003' }] },
    ]);
    expect(plan.epoch).toBe(2);
  });

  it('counts every upstream instance as an input channel', () => {
    expect(streamPlan(spec, 2, gang, peers)!.inputs).toBe(5);
    expect(streamPlan(spec, 2, gang, peers)!.outputs).toEqual([]);
  });

  it('has no plan while a downstream agent takes no records', () => {
    expect(
      streamPlan(spec, 1, gang, () => [{ id: id(3), address: 'h:1', data_port: null }]),
    ).toBeNull();
  });
});
