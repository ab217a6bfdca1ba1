/** Planning a submitted job: tasks per selector, stored spec, and what agents receive. */
import { describe, expect, it } from 'vitest';
import {
  planTasks,
  storedSpec,
  simpleTaskSpec,
  type CandidateWorker,
} from '../../durable-objects/job-plan.ts';
import { taskCost, type SubmitJobRequest } from '../../protocol/index.ts';

const W1 = '11111111-1111-4111-8111-111111111111';
const W2 = '22222222-2222-4222-8222-222222222222';
const W3 = '33333333-3333-4333-8333-333333333333';
const W4 = '44444444-4444-4444-8444-444444444444';

const workers: CandidateWorker[] = [
  { id: W1, state: 'ready', acceptsCommands: true },
  { id: W2, state: 'ready', acceptsCommands: false },
  { id: W3, state: 'lost', acceptsCommands: true },
  { id: W4, state: 'gone', acceptsCommands: true },
];

const pins = (plan: ReturnType<typeof planTasks>) => {
  if ('error' in plan) throw new Error(`unexpected error: ${plan.error.message}`);
  return plan.tasks.map((t) => t.pinnedWorkerId);
};

describe('planTasks', () => {
  it('makes one unpinned task without a selector', () => {
    expect(pins(planTasks({ kind: 'command', command: 'ls' }, []))).toEqual([null]);
    expect(pins(planTasks({ kind: 'echo' }, []))).toEqual([null]);
  });

  it('makes N unpinned tasks for a count', () => {
    expect(pins(planTasks({ kind: 'command', command: 'ls', workers: 3 }, []))).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('pins one task to every ready worker for "all", and only command-capable ones for commands', () => {
    expect(pins(planTasks({ kind: 'echo', workers: 'all' }, workers))).toEqual([W1, W2]);
    expect(pins(planTasks({ kind: 'command', command: 'ls', workers: 'all' }, workers))).toEqual([
      W1,
    ]);
  });

  it('fails "all" when no ready worker can run the job', () => {
    const none = planTasks({ kind: 'echo', workers: 'all' }, [
      { id: W3, state: 'lost', acceptsCommands: true },
    ]);
    expect(none).toEqual({
      error: { code: 'no_workers', message: expect.stringContaining('no ready worker') },
    });
    const noCommands = planTasks({ kind: 'command', command: 'ls', workers: 'all' }, [
      { id: W2, state: 'ready', acceptsCommands: false },
    ]);
    expect('error' in noCommands && noCommands.error.code).toBe('no_workers');
    expect('error' in planTasks({ kind: 'echo', workers: 'all' }, [])).toBe(true);
  });

  it('pins to explicit live worker ids, collapsing duplicates', () => {
    expect(
      pins(planTasks({ kind: 'command', command: 'ls', workers: [W3, W1, W3, W1] }, workers)),
    ).toEqual([W3, W1]);
  });

  it('rejects unknown or gone worker ids, naming them', () => {
    const unknown = '55555555-5555-4555-8555-555555555555';
    const plan = planTasks({ kind: 'echo', workers: [W1, unknown, W4] }, workers);
    expect(plan).toEqual({
      error: {
        code: 'unknown_workers',
        message: expect.stringContaining(unknown),
        ids: [unknown, W4],
      },
    });
  });

  it('refuses command jobs pinned to workers that run no commands, naming them', () => {
    const plan = planTasks({ kind: 'command', command: 'ls', workers: [W1, W2] }, workers);
    expect(plan).toEqual({
      error: {
        code: 'refuses_commands',
        message: expect.stringContaining('--no-commands'),
        ids: [W2],
      },
    });
    expect(pins(planTasks({ kind: 'echo', workers: [W2] }, workers))).toEqual([W2]);
  });

  it('repeats echo tasks count times per target', () => {
    expect(pins(planTasks({ kind: 'echo', count: 3 }, []))).toEqual([null, null, null]);
    expect(pins(planTasks({ kind: 'echo', count: 2, workers: [W1, W2] }, workers))).toEqual([
      W1,
      W1,
      W2,
      W2,
    ]);
    expect(pins(planTasks({ kind: 'echo', count: 2, workers: 3 }, []))).toHaveLength(6);
    expect(pins(planTasks({ kind: 'echo', count: 2, workers: 'all' }, workers))).toEqual([
      W1,
      W1,
      W2,
      W2,
    ]);
  });
});

describe('storedSpec and simpleTaskSpec', () => {
  it('fills command defaults and round-trips to the agent spec', () => {
    const request: SubmitJobRequest = {
      kind: 'command',
      command: ['echo', 'hi'],
      timeoutSeconds: 5,
    };
    const spec = storedSpec(request);
    expect(spec).toEqual({ command: ['echo', 'hi'], path: '.', env: {}, timeoutSeconds: 5 });
    expect(simpleTaskSpec('command', spec)).toEqual({
      kind: 'command',
      command: ['echo', 'hi'],
      path: '.',
      env: {},
      timeoutSeconds: 5,
    });
  });

  it('keeps an echo payload and count', () => {
    const spec = storedSpec({ kind: 'echo', payload: { a: [1, 2] }, count: 4 });
    expect(spec).toEqual({ payload: { a: [1, 2] }, count: 4 });
    expect(simpleTaskSpec('echo', spec)).toEqual({ kind: 'echo', payload: { a: [1, 2] } });
    expect(storedSpec({ kind: 'echo' })).toEqual({ payload: null, count: 1 });
  });

  it('refuses a stored spec of the wrong shape instead of passing it on', () => {
    expect(() => simpleTaskSpec('command', { command: 5, path: '.', env: {} })).toThrow(/command/);
    expect(() => simpleTaskSpec('command', { command: 'true', path: '.', env: { A: 1 } })).toThrow(
      /env/,
    );
  });

  it('charges a slot for commands only', () => {
    expect(taskCost('command')).toBe(1);
    expect(taskCost('echo')).toBe(0);
  });
});
