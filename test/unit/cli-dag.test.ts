/** tm's drawing of a dataflow job's stages: topological layers, counts, timings and upstreams. */
import { describe, expect, it } from 'vitest';
import { drawDag, stageLayers, type DagStage } from '../../cli/format/dag.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const counts = (over: Partial<DagStage['counts']> = {}): DagStage['counts'] => ({
  queued: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
  ...over,
});
const stage = (
  name: string,
  state: DagStage['state'],
  dependsOn: string[] = [],
  over: Partial<DagStage> = {},
): DagStage => ({
  name,
  state,
  parallelism: 1,
  dependsOn,
  streamFrom: [],
  counts: counts(),
  error: null,
  waitingFor: null,
  restarts: 0,
  startedAt: null,
  finishedAt: null,
  ...over,
});

describe('stageLayers', () => {
  it('puts each stage one layer below its lowest-placed upstream, in submitted order', () => {
    const stages = [
      stage('join', 'waiting', ['left', 'right']),
      stage('right', 'waiting', ['split']),
      stage('split', 'waiting'),
      stage('left', 'waiting', ['split']),
      stage('late', 'waiting', ['split', 'join']),
    ];
    expect(stageLayers(stages)).toEqual([[2], [1, 3], [0], [4]]);
  });

  it('takes stream edges as upstreams too', () => {
    const stages = [stage('a', 'running'), stage('b', 'running', [], { streamFrom: ['a'] })];
    expect(stageLayers(stages)).toEqual([[0], [1]]);
  });
});

describe('drawDag', () => {
  it('draws a diamond: states, succeeded/instances with other counts, times, upstreams, errors', () => {
    const stages = [
      stage('split', 'succeeded', [], {
        parallelism: 3,
        counts: counts({ succeeded: 3 }),
        startedAt: at(0),
        finishedAt: at(400),
      }),
      stage('left', 'running', ['split'], { counts: counts({ running: 1 }), startedAt: at(400) }),
      stage('right', 'failed', ['split'], {
        parallelism: 2,
        counts: counts({ succeeded: 1, failed: 1 }),
        error: 'stage "right" failed:\nexited with code 3',
        startedAt: at(400),
        finishedAt: at(900),
      }),
      stage('join', 'cancelled', ['left', 'right']),
    ];
    expect(drawDag(stages, { now: T0 + 520 })).toBe(
      [
        '1 ── split  succeeded  3/3              0.40s',
        '2 ┬─ left   running    0/1 (1 running)  0.12s  <- split',
        '  └─ right  failed     1/2 (1 failed)   0.50s  <- split',
        '       ! stage "right" failed: exited with code 3',
        '3 ── join   cancelled  0/1                     <- left, right',
      ].join('\n'),
    );
  });

  it('draws a chain one stage a line, and stream edges apart from dependsOn', () => {
    const stages = [
      stage('a', 'succeeded'),
      stage('b', 'running', ['a']),
      stage('c', 'running', [], { streamFrom: ['b'] }),
    ];
    expect(drawDag(stages, { now: T0 })).toBe(
      [
        '1 ── a  succeeded  0/1',
        '2 ── b  running    0/1  <- a',
        '3 ── c  running    0/1  <~ b (stream)',
      ].join('\n'),
    );
  });

  it("draws a stream group's restarts and what a waiting group waits for, beside the bar", () => {
    const slots = "3 free slots at once for its stream group's instances; 1 free now";
    const stages = [
      stage('src', 'running', [], { counts: counts({ running: 1 }), restarts: 1 }),
      stage('map', 'waiting', [], { parallelism: 2, streamFrom: ['src'], waitingFor: slots }),
      stage('log', 'waiting', [], { streamFrom: ['src'], waitingFor: 'slots\nfor 1' }),
      stage('sink', 'waiting', ['map'], { streamFrom: ['log'], restarts: 2 }),
    ];
    expect(drawDag(stages).split('\n')).toEqual([
      '1 ── src   running  0/1 (1 running)  restarted 1×',
      '2 ┬─ map   waiting  0/2                            <~ src (stream)',
      `  │    … waiting: ${slots}`,
      '  └─ log   waiting  0/1                            <~ src (stream)',
      '       … waiting: slots for 1',
      '3 ── sink  waiting  0/1              restarted 2×  <- map  <~ log (stream)',
    ]);
  });

  it('keeps the bar of a layer going past a note when more of the layer follows', () => {
    const stages = [
      stage('x', 'failed', [], { error: 'boom' }),
      stage('y', 'cancelled', [], { error: 'stage "x" failed' }),
    ];
    expect(drawDag(stages).split('\n')).toEqual([
      '1 ┬─ x  failed     0/1',
      '  │    ! boom',
      '  └─ y  cancelled  0/1',
      '       ! stage "x" failed',
    ]);
  });

  it('cuts lines to the width', () => {
    const stages = [stage('a', 'succeeded'), stage('b', 'waiting', ['a'])];
    const lines = drawDag(stages, { width: 20 }).split('\n');
    expect(lines).toEqual(['1 ── a  succeeded  …', '2 ── b  waiting    …']);
  });

  it('stays compact past compactAbove: a fan-out is a line per state, a chain a line per run', () => {
    const fan = [
      stage('src', 'succeeded'),
      ...Array.from({ length: 60 }, (_, i) =>
        stage(`p${i}`, i < 50 ? 'succeeded' : i < 58 ? 'running' : 'failed', ['src'], {
          error: i >= 58 ? 'boom' : null,
        }),
      ),
      stage(
        'sink',
        'waiting',
        Array.from({ length: 60 }, (_, i) => `p${i}`),
      ),
    ];
    // Restarts and waits: a group shows its most restarts, its first waiting and first failed.
    fan[52] = { ...fan[52]!, restarts: 1, waitingFor: 'slots' };
    fan[53] = { ...fan[53]!, restarts: 2, waitingFor: 'more slots' };
    expect(drawDag(fan)).toBe(
      [
        '1 ── src        succeeded  0/1',
        '2 ┬─ 50 stages  succeeded                     p0, p1, p2, p3, +46 more',
        '  ├─ 8 stages   running         restarted 2×  p50, p51, p52, p53, +4 more',
        '  │    … p51: waiting: slots',
        '  └─ 2 stages   failed                        p58, p59',
        '       ! p58: boom',
        '3 ── sink       waiting    0/1                <- p0, p1, p2, p3, +56 more',
      ].join('\n'),
    );
    const chain = Array.from({ length: 1000 }, (_, i) =>
      stage(
        `s${i}`,
        i < 400 ? 'succeeded' : i === 400 ? 'running' : 'waiting',
        i ? [`s${i - 1}`] : [],
      ),
    );
    expect(drawDag(chain).split('\n')).toEqual([
      '   1-400 ── 400 stages  succeeded       s0, s1, s2, s3, +396 more',
      '     401 ── s400        running    0/1  <- s399',
      '402-1000 ── 599 stages  waiting         s401, s402, s403, s404, +595 more',
    ]);
  });

  it('says so when there are no stages', () => {
    expect(drawDag([])).toBe('(no stages)');
  });
});
