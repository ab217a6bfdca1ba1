/** Placement: rotation, capacity, pinning, command capability, executors, caps, locality, determinism. */
import { describe, expect, it } from 'vitest';
import {
  mapsAhead,
  placeRoundRobin,
  type PlacementInput,
  type PlacementTask,
  type PlacementWorker,
} from '../../durable-objects/placement.ts';

const worker = (id: string, over: Partial<PlacementWorker> = {}): PlacementWorker => ({
  id,
  freeSlots: 10,
  freeInflight: 10,
  acceptsCommands: true,
  ...over,
});
const task = (id: string, over: Partial<PlacementTask> = {}): PlacementTask => ({
  id,
  cost: 1,
  needsCommands: true,
  pinnedWorkerId: null,
  ...over,
});
const tasks = (n: number, over: Partial<PlacementTask> = {}) =>
  Array.from({ length: n }, (_, i) => task(`t${i}`, over));
const placedOn = (input: PlacementInput) =>
  placeRoundRobin(input).assignments.map((a) => a.workerId);

describe('placeRoundRobin', () => {
  it('rotates unpinned tasks across workers in order', () => {
    const result = placeRoundRobin({
      workers: [worker('a'), worker('b'), worker('c')],
      tasks: tasks(7),
      lastWorkerId: null,
    });
    expect(result.assignments).toEqual([
      { taskId: 't0', workerId: 'a' },
      { taskId: 't1', workerId: 'b' },
      { taskId: 't2', workerId: 'c' },
      { taskId: 't3', workerId: 'a' },
      { taskId: 't4', workerId: 'b' },
      { taskId: 't5', workerId: 'c' },
      { taskId: 't6', workerId: 'a' },
    ]);
    expect(result.lastWorkerId).toBe('a');
  });

  it('carries the rotation on from lastWorkerId', () => {
    const workers = [worker('a'), worker('b'), worker('c')];
    expect(placedOn({ workers, tasks: tasks(4), lastWorkerId: 'b' })).toEqual(['c', 'a', 'b', 'c']);
    expect(placedOn({ workers, tasks: tasks(2), lastWorkerId: 'c' })).toEqual(['a', 'b']);
  });

  it('starts from the first worker when lastWorkerId is no longer among the workers', () => {
    expect(
      placedOn({ workers: [worker('a'), worker('b')], tasks: tasks(3), lastWorkerId: 'gone' }),
    ).toEqual(['a', 'b', 'a']);
  });

  it('carries the rotation across rounds through the returned lastWorkerId', () => {
    const workers = [worker('a'), worker('b'), worker('c')];
    const first = placeRoundRobin({ workers, tasks: tasks(2), lastWorkerId: null });
    expect(placedOn({ workers, tasks: tasks(2), lastWorkerId: first.lastWorkerId })).toEqual([
      'c',
      'a',
    ]);
  });

  it('skips workers without free slots for slot-using tasks', () => {
    const workers = [
      worker('a', { freeSlots: 0 }),
      worker('b', { freeSlots: 1 }),
      worker('c', { freeSlots: 2 }),
    ];
    const result = placeRoundRobin({ workers, tasks: tasks(5), lastWorkerId: null });
    expect(result.assignments.map((a) => a.workerId)).toEqual(['b', 'c', 'c']);
    expect(result.lastWorkerId).toBe('c');
  });

  it('respects a task cost larger than one slot', () => {
    const workers = [worker('a', { freeSlots: 1 }), worker('b', { freeSlots: 2 })];
    expect(placedOn({ workers, tasks: tasks(2, { cost: 2 }), lastWorkerId: null })).toEqual(['b']);
  });

  it('skips workers with no free inflight capacity', () => {
    const workers = [worker('a', { freeInflight: 1 }), worker('b', { freeInflight: 0 })];
    expect(placedOn({ workers, tasks: tasks(3), lastWorkerId: null })).toEqual(['a']);
  });

  it('places cost-0 tasks regardless of slots but within inflight capacity', () => {
    const workers = [
      worker('a', { freeSlots: 0, freeInflight: 2 }),
      worker('b', { freeSlots: 0, freeInflight: 1 }),
    ];
    const result = placeRoundRobin({
      workers,
      tasks: tasks(5, { cost: 0, needsCommands: false }),
      lastWorkerId: null,
    });
    expect(result.assignments.map((a) => a.workerId)).toEqual(['a', 'b', 'a']);
  });

  // BUG: a worker whose slots were lowered below its running cost (freeSlots < 0, e.g. after
  // re-registering with fewer slots) refuses cost-0 tasks too, since fits() compares freeSlots < cost.
  it('places cost-0 tasks on a worker whose free slots went negative', () => {
    const workers = [worker('a', { freeSlots: -1, freeInflight: 5 })];
    expect(
      placedOn({ workers, tasks: tasks(1, { cost: 0, needsCommands: false }), lastWorkerId: null }),
    ).toEqual(['a']);
  });

  it('sends pinned tasks only to their worker, without moving the rotation', () => {
    const workers = [worker('a'), worker('b'), worker('c')];
    const result = placeRoundRobin({
      workers,
      tasks: [
        task('p1', { pinnedWorkerId: 'c' }),
        task('u1'),
        task('p2', { pinnedWorkerId: 'c' }),
        task('u2'),
      ],
      lastWorkerId: null,
    });
    expect(result.assignments).toEqual([
      { taskId: 'p1', workerId: 'c' },
      { taskId: 'u1', workerId: 'a' },
      { taskId: 'p2', workerId: 'c' },
      { taskId: 'u2', workerId: 'b' },
    ]);
    expect(result.lastWorkerId).toBe('b');
  });

  it('leaves pinned tasks waiting when their worker is full or absent', () => {
    const workers = [worker('a', { freeSlots: 1 }), worker('b')];
    const result = placeRoundRobin({
      workers,
      tasks: [
        task('p1', { pinnedWorkerId: 'a' }),
        task('p2', { pinnedWorkerId: 'a' }),
        task('p3', { pinnedWorkerId: 'missing' }),
      ],
      lastWorkerId: null,
    });
    expect(result.assignments).toEqual([{ taskId: 'p1', workerId: 'a' }]);
    expect(result.lastWorkerId).toBeNull();
  });

  it('never gives command tasks to workers that do not accept commands', () => {
    const workers = [
      worker('a', { acceptsCommands: false }),
      worker('b'),
      worker('c', { acceptsCommands: false }),
    ];
    expect(placedOn({ workers, tasks: tasks(3), lastWorkerId: null })).toEqual(['b', 'b', 'b']);
    const pinned = [task('p', { pinnedWorkerId: 'a' })];
    expect(placedOn({ workers, tasks: pinned, lastWorkerId: null })).toEqual([]);
  });

  it('gives non-command tasks to workers that do not accept commands', () => {
    const workers = [worker('a', { acceptsCommands: false }), worker('b')];
    expect(
      placedOn({ workers, tasks: tasks(2, { cost: 0, needsCommands: false }), lastWorkerId: null }),
    ).toEqual(['a', 'b']);
  });

  it('is deterministic and does not mutate its input', () => {
    const input: PlacementInput = {
      workers: [
        worker('a', { freeSlots: 2 }),
        worker('b', { freeSlots: 1, acceptsCommands: false }),
        worker('c', { freeInflight: 1 }),
      ],
      tasks: [
        ...tasks(4),
        task('e', { cost: 0, needsCommands: false }),
        task('p', { pinnedWorkerId: 'b', needsCommands: false }),
      ],
      lastWorkerId: 'a',
    };
    const snapshot = structuredClone(input);
    const first = placeRoundRobin(input);
    expect(placeRoundRobin(input)).toEqual(first);
    expect(input).toEqual(snapshot);
    expect(first.assignments.length).toBeGreaterThan(0);
  });

  it('assigns nothing without workers, keeping lastWorkerId', () => {
    expect(placeRoundRobin({ workers: [], tasks: tasks(3), lastWorkerId: 'x' })).toEqual({
      assignments: [],
      lastWorkerId: 'x',
    });
    expect(placeRoundRobin({ workers: [], tasks: tasks(3), lastWorkerId: null })).toEqual({
      assignments: [],
      lastWorkerId: null,
    });
  });

  it('assigns nothing without tasks', () => {
    expect(placeRoundRobin({ workers: [worker('a')], tasks: [], lastWorkerId: 'a' })).toEqual({
      assignments: [],
      lastWorkerId: 'a',
    });
  });
});

describe('placeRoundRobin with pipeline tasks', () => {
  const ocr = (id: string, over: Partial<PlacementTask> = {}) =>
    task(id, { needsCommands: false, requires: ['tesseract', 'wget'], group: 'ocr', ...over });

  it('places a task only on a worker that has every executor it needs', () => {
    const workers = [
      worker('a', { executors: ['wget'] }),
      worker('b', { executors: ['tesseract'] }),
      worker('c', { executors: ['tesseract', 'wget', 'ffmpeg'] }),
      worker('d'),
    ];
    expect(placedOn({ workers, tasks: [ocr('t0'), ocr('t1')], lastWorkerId: null })).toEqual([
      'c',
      'c',
    ]);
  });

  it('leaves a task queued when no worker has all its executors', () => {
    const workers = [
      worker('a', { executors: ['wget'] }),
      worker('b', { executors: ['tesseract'] }),
    ];
    expect(placedOn({ workers, tasks: [ocr('t0')], lastWorkerId: null })).toEqual([]);
  });

  it('rotates pipeline tasks across capable workers only, alongside ordinary tasks', () => {
    const workers = [
      worker('a', { executors: ['tesseract', 'wget'] }),
      worker('b'),
      worker('c', { executors: ['tesseract', 'wget'] }),
    ];
    const result = placeRoundRobin({
      workers,
      tasks: [ocr('p0'), task('u0'), ocr('p1'), task('u1')],
      lastWorkerId: null,
    });
    expect(result.assignments).toEqual([
      { taskId: 'p0', workerId: 'a' },
      { taskId: 'u0', workerId: 'b' },
      { taskId: 'p1', workerId: 'c' },
      { taskId: 'u1', workerId: 'a' },
    ]);
  });

  it('starts no more tasks of a group than its cap, and leaves other groups alone', () => {
    const workers = [
      worker('a', { executors: ['tesseract', 'wget', 'x'] }),
      worker('b', { executors: ['x'] }),
    ];
    const result = placeRoundRobin({
      workers,
      tasks: [
        ...['o0', 'o1', 'o2', 'o3'].map((id) => ocr(id)),
        ...['x0', 'x1', 'x2'].map((id) => task(id, { requires: ['x'], group: 'xs' })),
        task('plain'),
      ],
      lastWorkerId: null,
      groupCaps: new Map([['ocr', 2]]),
    });
    expect(result.assignments.map((a) => a.taskId)).toEqual([
      'o0',
      'o1',
      'x0',
      'x1',
      'x2',
      'plain',
    ]);
  });

  it('places nothing of a group whose cap is used up', () => {
    const workers = [worker('a', { executors: ['tesseract', 'wget'] })];
    expect(
      placedOn({
        workers,
        tasks: [ocr('t0')],
        lastWorkerId: null,
        groupCaps: new Map([['ocr', 0]]),
      }),
    ).toEqual([]);
  });

  it('counts only placed tasks against the cap', () => {
    // The first task fits nowhere (no free slot on its only capable worker): the cap is not spent.
    const workers = [worker('a', { executors: ['tesseract', 'wget'], freeSlots: 1 })];
    const result = placeRoundRobin({
      workers,
      tasks: [ocr('big', { cost: 2 }), ocr('t1'), ocr('t2')],
      lastWorkerId: null,
      groupCaps: new Map([['ocr', 1]]),
    });
    expect(result.assignments).toEqual([{ taskId: 't1', workerId: 'a' }]);
  });
});

describe('placeRoundRobin with locality', () => {
  const assignmentsOf = (input: PlacementInput) =>
    Object.fromEntries(placeRoundRobin(input).assignments.map((a) => [a.taskId, a.workerId]));

  it('sends each task to the worker that read its input, whatever the rotation says', () => {
    const placed = assignmentsOf({
      workers: [worker('a'), worker('b'), worker('c')],
      tasks: [
        task('t0', { preferredWorkerId: 'c' }),
        task('t1', { preferredWorkerId: 'c' }),
        task('t2', { preferredWorkerId: 'a' }),
        task('t3', { preferredWorkerId: 'b' }),
      ],
      lastWorkerId: null,
    });
    expect(placed).toEqual({ t0: 'c', t1: 'c', t2: 'a', t3: 'b' });
  });

  it('never waits for a busy preferred worker: the task rotates to one with room', () => {
    const result = placeRoundRobin({
      workers: [worker('a', { freeSlots: 1 }), worker('b', { freeSlots: 2 })],
      tasks: [task('t0', { preferredWorkerId: 'a' }), task('t1', { preferredWorkerId: 'a' })],
      lastWorkerId: null,
    });
    expect(result.assignments).toEqual([
      { taskId: 't0', workerId: 'a' },
      { taskId: 't1', workerId: 'b' },
    ]);
  });

  it('keeps a free slot for the task that prefers it, ahead of an older task without a preference', () => {
    // One slot on `a`, one on `b`: the rotation alone would give `a` to t0 and `b` to t1.
    const placed = assignmentsOf({
      workers: [worker('a', { freeSlots: 1 }), worker('b', { freeSlots: 1 })],
      tasks: [task('t0'), task('t1', { preferredWorkerId: 'a' })],
      lastWorkerId: null,
    });
    expect(placed).toEqual({ t0: 'b', t1: 'a' });
  });

  it('ignores a preferred worker that is gone, and one the task cannot run on', () => {
    const placed = assignmentsOf({
      workers: [worker('a'), worker('b', { acceptsCommands: false })],
      tasks: [task('t0', { preferredWorkerId: 'lost' }), task('t1', { preferredWorkerId: 'b' })],
      lastWorkerId: null,
    });
    expect(placed).toEqual({ t0: 'a', t1: 'a' });
  });

  it('lets a pin win over a preference, and a group cap hold both', () => {
    const result = placeRoundRobin({
      workers: [worker('a', { executors: ['tesseract', 'wget'] }), worker('b')],
      tasks: [
        task('pinned', { pinnedWorkerId: 'b', preferredWorkerId: 'a' }),
        task('capped', {
          preferredWorkerId: 'a',
          group: 'ocr',
          requires: ['tesseract'],
          needsCommands: false,
        }),
      ],
      lastWorkerId: null,
      groupCaps: new Map([['ocr', 0]]),
    });
    expect(result.assignments).toEqual([{ taskId: 'pinned', workerId: 'b' }]);
  });

  it('leaves the rotation where it was when only preferred placements happen', () => {
    const result = placeRoundRobin({
      workers: [worker('a'), worker('b')],
      tasks: [task('t0', { preferredWorkerId: 'b' })],
      lastWorkerId: 'a',
    });
    expect(result.lastWorkerId).toBe('a');
  });
});

describe('mapsAhead', () => {
  it('lets a worker hold one map ahead per slot, less what it already holds', () => {
    expect(mapsAhead(1, 1)).toBe(1);
    expect(mapsAhead(2, 2)).toBe(2);
    expect(mapsAhead(2, 0)).toBe(2);
    expect(mapsAhead(2, -1)).toBe(1);
    expect(mapsAhead(2, -2)).toBe(0);
    expect(mapsAhead(2, -3)).toBe(0);
    expect(mapsAhead(4, -1)).toBe(3);
  });
});

describe('placeRoundRobin holding maps ahead', () => {
  const map = (id: string, over: Partial<PlacementTask> = {}) =>
    task(id, { needsCommands: false, canWait: true, ...over });
  const full = (id: string, ahead = 1) => worker(id, { freeSlots: 0, ahead });

  it('fills every free slot first, then holds at most `ahead` more per worker', () => {
    const result = placeRoundRobin({
      workers: [worker('a', { freeSlots: 1, ahead: 1 }), worker('b', { freeSlots: 1, ahead: 1 })],
      tasks: ['m0', 'm1', 'm2', 'm3', 'm4'].map((id) => map(id)),
      lastWorkerId: null,
    });
    expect(result.assignments).toEqual([
      { taskId: 'm0', workerId: 'a' },
      { taskId: 'm1', workerId: 'b' },
      { taskId: 'm2', workerId: 'a', ahead: true },
      { taskId: 'm3', workerId: 'b', ahead: true },
    ]);
  });

  it('holds a map ahead only on the worker that read its input, when that one is here', () => {
    const result = placeRoundRobin({
      workers: [full('a'), full('b')],
      tasks: [
        map('m0', { preferredWorkerId: 'b' }),
        map('m1', { preferredWorkerId: 'b' }),
        map('m2', { preferredWorkerId: 'gone' }),
      ],
      lastWorkerId: null,
    });
    // m1 stays queued rather than be held where its input is not cached.
    expect(result.assignments).toEqual([
      { taskId: 'm0', workerId: 'b', ahead: true },
      { taskId: 'm2', workerId: 'a', ahead: true },
    ]);
  });

  it('holds nothing ahead while another task waits for room, and never a task that cannot wait', () => {
    const waiting = placeRoundRobin({
      workers: [full('a')],
      tasks: [task('command'), map('m0')],
      lastWorkerId: null,
    });
    expect(waiting.assignments).toEqual([]);
    const pinned = placeRoundRobin({
      workers: [full('a')],
      tasks: [map('m0', { pinnedWorkerId: 'a' }), task('reduce', { needsCommands: false })],
      lastWorkerId: null,
    });
    expect(pinned.assignments).toEqual([]);
    const noAhead = placeRoundRobin({
      workers: [full('a', 0)],
      tasks: [map('m0')],
      lastWorkerId: null,
    });
    expect(noAhead.assignments).toEqual([]);
  });

  it('still holds maps ahead when the only tasks left wait on a group cap', () => {
    const result = placeRoundRobin({
      workers: [full('a')],
      tasks: [task('capped', { group: 'ocr', needsCommands: false }), map('m0')],
      lastWorkerId: null,
      groupCaps: new Map([['ocr', 0]]),
    });
    expect(result.assignments).toEqual([{ taskId: 'm0', workerId: 'a', ahead: true }]);
  });
});
