/** The rules on a dataflow graph: names, dependencies, stream edges, cycles, groups, order. */
import { describe, expect, it } from 'vitest';
import {
  DataflowJobRequest,
  graphIssues,
  stageInstances,
  stageOrder,
  streamGroups,
  type StageShape,
} from '../../protocol/index.ts';

const messages = (stages: StageShape[]) => graphIssues(stages).map((issue) => issue.message);

describe('graphIssues', () => {
  it('accepts a diamond', () => {
    expect(
      messages([
        { name: 'a' },
        { name: 'b', dependsOn: ['a'] },
        { name: 'c', dependsOn: ['a'] },
        { name: 'd', dependsOn: ['b', 'c'] },
      ]),
    ).toEqual([]);
  });

  it('names a cycle stage by stage', () => {
    const found = messages([
      { name: 'a', dependsOn: ['c'] },
      { name: 'b', dependsOn: ['a'] },
      { name: 'c', dependsOn: ['b'] },
    ]);
    expect(found).toEqual(['the stages form a cycle (each depends on the next): a → c → b → a']);
  });

  it('finds a cycle through a stream edge', () => {
    const found = messages([
      { name: 'a', kind: 'command', dependsOn: ['b'] },
      { name: 'b', kind: 'command', streamFrom: ['a'] },
    ]);
    expect(found.join()).toMatch(/cycle|stream group/);
  });

  it('names unknown and duplicate stages', () => {
    expect(messages([{ name: 'a', dependsOn: ['x'] }])).toEqual([
      'stage "a" depends on unknown stage "x"',
    ]);
    expect(messages([{ name: 'a' }, { name: 'a' }])[0]).toContain('already named "a"');
  });

  it('refuses stream edges into or out of echo stages, and a key with no stream', () => {
    expect(
      messages([
        { name: 'a', kind: 'command' },
        { name: 'b', kind: 'echo', streamFrom: ['a'] },
      ])[0],
    ).toContain('a stream edge into a batch-only stage');
    expect(
      messages([
        { name: 'a', kind: 'echo' },
        { name: 'b', kind: 'command', streamFrom: ['a'] },
      ])[0],
    ).toContain('a stream edge out of a batch-only stage');
    expect(messages([{ name: 'a', kind: 'command', key: 'k' }])[0]).toContain('reads no stream');
  });

  it('refuses a batch edge inside one stream group', () => {
    const found = messages([
      { name: 'p', kind: 'command' },
      { name: 'q', kind: 'command', streamFrom: ['p'] },
      { name: 'r', kind: 'command', streamFrom: ['q'], dependsOn: ['p'] },
    ]);
    expect(found[0]).toContain('both are in one stream group');
  });

  it('counts instances against the job bound', () => {
    expect(
      messages([
        { name: 'a', parallelism: 60_000 },
        { name: 'b', parallelism: 60_000 },
      ])[0],
    ).toContain('at most 100000 tasks');
  });

  it("counts a data list's items as instances, and refuses a parallelism that differs", () => {
    expect(stageInstances({ name: 'p', data: [{}, {}, {}] })).toBe(3);
    expect(stageInstances({ name: 'p', data: {} })).toBe(1);
    expect(stageInstances({ name: 'p', parallelism: 4, data: {} })).toBe(4);
    expect(messages([{ name: 'p', parallelism: 3, data: [{}, {}, {}] }])).toEqual([]);
    expect(messages([{ name: 'p', parallelism: 2, data: [{}, {}, {}] }])).toEqual([
      'stage "p" has parallelism 2 but 3 data items, one per instance: leave parallelism out, or make them equal',
    ]);
    expect(
      messages([
        { name: 'a', parallelism: 99_999 },
        { name: 'p', data: [{}, {}] },
      ])[0],
    ).toContain('100001 instances');
  });

  it('refuses an aggregate stage more than one instance: it runs one job', () => {
    expect(messages([{ name: 'agg', kind: 'aggregate' }])).toEqual([]);
    expect(messages([{ name: 'agg', kind: 'aggregate', parallelism: 2 }])[0]).toContain(
      '"agg" is an aggregate: it runs one aggregate job',
    );
  });

  it('reserves the name "outputs", and bounds the files a stage receives', () => {
    expect(messages([{ name: 'outputs' }])[0]).toContain('the stage name "outputs" is reserved');
    const writer = { name: 'w', kind: 'command', parallelism: 500, outputs: ['a', 'b'] };
    expect(messages([writer, { name: 'r', dependsOn: ['w'] }])).toEqual([]);
    expect(
      messages([
        writer,
        { name: 'agg', kind: 'aggregate' },
        { name: 'r', dependsOn: ['w', 'agg'] },
      ]),
    ).toEqual([
      'stage "r" would receive 1001 files from its upstreams (their outputs and aggregate results); a stage instance receives at most 1000',
    ]);
    // Only command stages receive files.
    expect(messages([writer, { name: 'e', kind: 'echo', dependsOn: ['w', 'w'] }])).toEqual([]);
  });

  it('checks a chain of a thousand stages without overflowing the stack', () => {
    const chain = Array.from({ length: 1000 }, (_, i) => ({
      name: `s${i}`,
      ...(i > 0 ? { dependsOn: [`s${i - 1}`] } : {}),
    }));
    expect(messages(chain)).toEqual([]);
    expect(stageOrder(chain).slice(0, 3)).toEqual([0, 1, 2]);
  });
});

describe('streamGroups', () => {
  it('joins stages by stream edges in either direction, each group named by its first stage', () => {
    expect(
      streamGroups([
        { name: 'a' },
        { name: 'b', streamFrom: ['c'] },
        { name: 'c' },
        { name: 'd', streamFrom: ['b'], dependsOn: ['a'] },
      ]),
    ).toEqual([0, 1, 1, 1]);
  });
});

describe('DataflowJobRequest', () => {
  it('reports graph problems at their path', () => {
    const parsed = DataflowJobRequest.safeParse({
      kind: 'dataflow',
      stages: [{ name: 'a', kind: 'echo', dependsOn: ['nope'] }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['stages', 0, 'dependsOn', 0]);
  });
});
