/** The dataflow planner: stages end with their tasks, start after their upstreams, groups go whole. */
import { describe, expect, it } from 'vitest';
import type { StageState } from '../../protocol/index.ts';
import { stepDataflow, type StageTally } from '../../durable-objects/dataflow-plan.ts';
import { stageGraph } from '../../durable-objects/dataflow-spec.ts';
import type { Stage } from '../../protocol/index.ts';

const echo = (name: string, more: Partial<Stage> = {}): Stage =>
  ({ name, kind: 'echo', ...more }) as Stage;
const cmd = (name: string, more: Partial<Stage> = {}): Stage =>
  ({ name, kind: 'command', command: 'true', ...more }) as Stage;

const tally = (total: number, ended: Partial<StageTally> = {}): StageTally => ({
  total,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
  ...ended,
});

const step = (
  stages: Stage[],
  states: StageState[],
  tallies: [number, StageTally][] = [],
  cancel = false,
) => stepDataflow(stageGraph({ stages }), states, new Map(tallies), cancel);

const diamond = [
  echo('a'),
  echo('b', { dependsOn: ['a'] }),
  echo('c', { dependsOn: ['a'] }),
  echo('d', { dependsOn: ['b', 'c'] }),
];

describe('stepDataflow', () => {
  it('starts the stages that wait on nothing', () => {
    const next = step(diamond, ['waiting', 'waiting', 'waiting', 'waiting']);
    expect(next.start).toEqual([0]);
    expect(next.outcome).toBeNull();
  });

  it('ends a stage whose tasks all succeeded and starts what waited only on it', () => {
    const next = step(
      diamond,
      ['running', 'waiting', 'waiting', 'waiting'],
      [[0, tally(2, { succeeded: 2 })]],
    );
    expect(next.moves[0]).toEqual({ stage: 0, from: 'running', to: 'succeeded' });
    expect(next.start.sort()).toEqual([1, 2]);
  });

  it('keeps a stage running while one of its tasks has not ended', () => {
    const next = step(
      diamond,
      ['running', 'waiting', 'waiting', 'waiting'],
      [[0, tally(2, { succeeded: 1 })]],
    );
    expect(next.moves).toEqual([]);
    expect(next.start).toEqual([]);
  });

  it('waits for every upstream of a join', () => {
    const next = step(diamond, ['succeeded', 'succeeded', 'running', 'waiting'], [[2, tally(1)]]);
    expect(next.start).toEqual([]);
  });

  it('fails the job at a failed stage, cancelling what waits and the running rest', () => {
    const next = step(
      diamond,
      ['succeeded', 'running', 'running', 'waiting'],
      [
        [1, tally(1, { failed: 1 })],
        [2, tally(1)],
      ],
    );
    expect(next.moves).toContainEqual({ stage: 1, from: 'running', to: 'failed' });
    expect(next.moves).toContainEqual({
      stage: 3,
      from: 'waiting',
      to: 'cancelled',
      reason: 'stage "b" failed',
    });
    expect(next.cancelRest).toBe(true);
    expect(next.outcome).toBeNull();
    const after = step(
      diamond,
      ['succeeded', 'failed', 'running', 'cancelled'],
      [[2, tally(1, { cancelled: 1 })]],
    );
    expect(after.outcome).toBe('failed');
  });

  it('goes on past a stage that may fail, and succeeds', () => {
    const stages = [echo('a', { continueOnFailure: true }), echo('b', { dependsOn: ['a'] })];
    const next = step(stages, ['running', 'waiting'], [[0, tally(1, { failed: 1 })]]);
    expect(next.start).toEqual([1]);
    expect(next.cancelRest).toBe(false);
    expect(step(stages, ['failed', 'succeeded']).outcome).toBe('succeeded');
  });

  it('cancels downstream of a cancelled stage, and a cancelled job ends cancelled', () => {
    const next = step(diamond, ['running', 'waiting', 'waiting', 'waiting'], [[0, tally(1)]], true);
    expect(next.moves.filter((m) => m.to === 'cancelled').map((m) => m.stage)).toEqual([1, 2, 3]);
    expect(next.cancelRest).toBe(true);
    expect(
      step(diamond, ['cancelled', 'cancelled', 'cancelled', 'cancelled'], [], true).outcome,
    ).toBe('cancelled');
  });

  it('starts a stream group whole, and ends its stages only when all of its tasks have ended', () => {
    const stages = [
      cmd('src'),
      cmd('p'),
      cmd('q', { streamFrom: ['p'] }),
      cmd('r', { streamFrom: ['q'], dependsOn: ['src'] }),
    ];
    expect(step(stages, ['waiting', 'waiting', 'waiting', 'waiting']).start).toEqual([0]);
    const started = step(
      stages,
      ['running', 'waiting', 'waiting', 'waiting'],
      [[0, tally(1, { succeeded: 1 })]],
    );
    expect(started.start.sort()).toEqual([1, 2, 3]);
    const producerDone = step(
      stages,
      ['succeeded', 'running', 'running', 'running'],
      [
        [1, tally(1, { succeeded: 1 })],
        [2, tally(1)],
        [3, tally(1)],
      ],
    );
    expect(producerDone.moves).toEqual([]);
  });

  it('stops a stream group when one of its instances failed for good', () => {
    const stages = [cmd('p'), cmd('q', { streamFrom: ['p'] })];
    const next = step(
      stages,
      ['running', 'running'],
      [
        [0, tally(1, { failed: 1 })],
        [1, tally(1)],
      ],
    );
    expect(next.cancelRest).toBe(true);
  });
});
