/**
 * Pure checks of a dataflow job's graph: names used once, dependencies that name a stage, no
 * cycle (the one found is named, stage by stage), and no more tasks than one job may have.
 */
import { MAX_TASKS_PER_JOB } from './limits.ts';
import { MAX_STAGE_FILES } from './dataflow.ts';

/** The template of a command stage's own outputs folder, which the agent renders. */
export const OUTPUTS_TEMPLATE = 'outputs';

export interface StageShape {
  name: string;
  kind?: string;
  parallelism?: number | undefined;
  dependsOn?: readonly string[] | undefined;
  streamFrom?: readonly string[] | undefined;
  key?: string | undefined;
  /** A pipeline stage's data: a list gives one instance per item. */
  data?: unknown;
  /** A command stage's declared output files. */
  outputs?: readonly string[] | undefined;
}

/** A stage's instances: its parallelism, else one per item of a data list, else one. */
export const stageInstances = (stage: StageShape): number =>
  stage.parallelism ?? (Array.isArray(stage.data) ? stage.data.length : 1);

/** Every stage a stage waits on or reads from. */
export const upstreamsOf = (stage: StageShape): readonly string[] => [
  ...(stage.dependsOn ?? []),
  ...(stage.streamFrom ?? []),
];

/** Only command stages read and write records; echo and pipeline stages are batch-only. */
const streams = (stage: StageShape | undefined) =>
  stage?.kind === undefined || stage.kind === 'command';

export interface GraphIssue {
  path: (string | number)[];
  message: string;
}

/** What is wrong with the graph; empty when all is well. */
export function graphIssues(stages: readonly StageShape[]): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const index = new Map<string, number>();
  stages.forEach((stage, s) => {
    if (stage.name === OUTPUTS_TEMPLATE)
      issues.push({
        path: ['stages', s, 'name'],
        message: `the stage name "${OUTPUTS_TEMPLATE}" is reserved: {{${OUTPUTS_TEMPLATE}}} is a stage's own outputs folder`,
      });
    const first = index.get(stage.name);
    if (first === undefined) index.set(stage.name, s);
    else
      issues.push({
        path: ['stages', s, 'name'],
        message: `stage ${s + 1}: another stage (${first + 1}) is already named "${stage.name}"`,
      });
  });
  stages.forEach((stage, s) => {
    (stage.dependsOn ?? []).forEach((upstream, d) => {
      const path = ['stages', s, 'dependsOn', d];
      if (!index.has(upstream))
        issues.push({
          path,
          message: `stage "${stage.name}" depends on unknown stage "${upstream}"`,
        });
    });
    issues.push(...streamIssues(stages, index, s));
    if (stage.kind === 'aggregate' && stageInstances(stage) !== 1)
      issues.push({
        path: ['stages', s, 'parallelism'],
        message: `stage "${stage.name}" is an aggregate: it runs one aggregate job, whose own tasks spread over the agents; leave parallelism out`,
      });
    if (Array.isArray(stage.data) && stageInstances(stage) !== stage.data.length)
      issues.push({
        path: ['stages', s, 'parallelism'],
        message: `stage "${stage.name}" has parallelism ${stage.parallelism} but ${stage.data.length} data items, one per instance: leave parallelism out, or make them equal`,
      });
  });
  issues.push(...fileIssues(stages, index));
  const tasks = stages.reduce((sum, stage) => sum + stageInstances(stage), 0);
  if (tasks > MAX_TASKS_PER_JOB)
    issues.push({
      path: ['stages'],
      message: `the stages have ${tasks} instances in all; a job may have at most ${MAX_TASKS_PER_JOB} tasks`,
    });
  if (issues.length > 0) return issues;
  issues.push(...groupIssues(stages, index));
  const cycle = findCycle(stages, index);
  if (cycle)
    issues.push({
      path: ['stages', index.get(cycle[0] ?? '') ?? 0, 'dependsOn'],
      message: `the stages form a cycle (each depends on the next): ${cycle.join(' → ')}`,
    });
  return issues;
}

function streamIssues(
  stages: readonly StageShape[],
  index: Map<string, number>,
  s: number,
): GraphIssue[] {
  const stage = stages[s]!;
  const issues: GraphIssue[] = [];
  const from = stage.streamFrom ?? [];
  if (stage.key !== undefined && from.length === 0)
    issues.push({
      path: ['stages', s, 'key'],
      message: `stage "${stage.name}" has a key but reads no stream (streamFrom)`,
    });
  from.forEach((upstream, f) => {
    const path = ['stages', s, 'streamFrom', f];
    const u = index.get(upstream);
    if (u === undefined)
      issues.push({
        path,
        message: `stage "${stage.name}" streams from unknown stage "${upstream}"`,
      });
    else if (!streams(stage))
      issues.push({
        path,
        message: `a stream edge into a batch-only stage: "${stage.name}" is ${stage.kind}, and only command stages read records`,
      });
    else if (!streams(stages[u]))
      issues.push({
        path,
        message: `a stream edge out of a batch-only stage: "${upstream}" is ${stages[u]!.kind}, and only command stages write records`,
      });
    else if ((stage.dependsOn ?? []).includes(upstream))
      issues.push({
        path,
        message: `stage "${stage.name}" both depends on and streams from "${upstream}": choose one`,
      });
  });
  return issues;
}

/**
 * Each stage's stream group, as the index of its first stage: stages joined by stream edges (in
 * either direction) share one; a stage with none is a group of its own.
 */
export function streamGroups(stages: readonly StageShape[]): number[] {
  const index = new Map(stages.map((stage, s) => [stage.name, s]));
  const parent = stages.map((_, s) => s);
  const root = (s: number): number => {
    while (parent[s] !== s) s = parent[s] = parent[parent[s]!]!;
    return s;
  };
  stages.forEach((stage, s) =>
    (stage.streamFrom ?? []).forEach((name) => {
      const [a, b] = [root(s), root(index.get(name) ?? s)];
      parent[Math.max(a, b)] = Math.min(a, b);
    }),
  );
  return stages.map((_, s) => root(s));
}

/** A batch edge inside a stream group could never be met: the group starts all at once. */
function groupIssues(stages: readonly StageShape[], index: Map<string, number>): GraphIssue[] {
  const groups = streamGroups(stages);
  const issues: GraphIssue[] = [];
  stages.forEach((stage, s) =>
    (stage.dependsOn ?? []).forEach((upstream, d) => {
      if (groups[index.get(upstream)!] !== groups[s]) return;
      issues.push({
        path: ['stages', s, 'dependsOn', d],
        message: `stage "${stage.name}" depends on "${upstream}", but both are in one stream group, which runs all at once: stream from it instead`,
      });
    }),
  );
  return issues;
}

/** The stages in an order where each comes after all it depends on (the graph has no cycle). */
export function stageOrder(stages: readonly StageShape[]): number[] {
  const index = new Map(stages.map((stage, s) => [stage.name, s]));
  const order: number[] = [];
  const done = new Set<number>();
  const visit = (s: number): void => {
    if (done.has(s)) return;
    done.add(s);
    for (const upstream of upstreamsOf(stages[s]!)) visit(index.get(upstream) ?? s);
    order.push(s);
  };
  stages.forEach((_, s) => visit(s));
  return order;
}

/**
 * A cycle as the names along it, first name repeated at the end (`a → b → a`); null if none.
 * Depth-first with an explicit stack, so a chain of a thousand stages does not overflow.
 */
function findCycle(stages: readonly StageShape[], index: Map<string, number>): string[] | null {
  const state = new Uint8Array(stages.length); // 0 unseen, 1 on the path, 2 done
  for (let root = 0; root < stages.length; root++) {
    if (state[root] !== 0) continue;
    const path: number[] = [root];
    const next: number[] = [0];
    state[root] = 1;
    while (path.length > 0) {
      const s = path[path.length - 1]!;
      const deps = upstreamsOf(stages[s]!);
      const d = next[next.length - 1]!;
      if (d >= deps.length) {
        state[s] = 2;
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = d + 1;
      const u = index.get(deps[d]!)!;
      if (state[u] === 1) {
        const names = path.slice(path.indexOf(u)).map((i) => stages[i]!.name);
        return [...names, stages[u]!.name];
      }
      if (state[u] === 0) {
        state[u] = 1;
        path.push(u);
        next.push(0);
      }
    }
  }
  return null;
}

/** Command stages that would receive more files than one assignment carries. */
function fileIssues(stages: readonly StageShape[], index: Map<string, number>): GraphIssue[] {
  const filesFrom = (upstream: StageShape | undefined) =>
    upstream?.kind === 'aggregate'
      ? 1
      : upstream
        ? stageInstances(upstream) * (upstream.outputs?.length ?? 0)
        : 0;
  return stages.flatMap((stage, s) => {
    if (!streams(stage)) return [];
    const files = (stage.dependsOn ?? []).reduce(
      (sum, name) => sum + filesFrom(stages[index.get(name) ?? -1]),
      0,
    );
    if (files <= MAX_STAGE_FILES) return [];
    const message = `stage "${stage.name}" would receive ${files} files from its upstreams (their outputs and aggregate results); a stage instance receives at most ${MAX_STAGE_FILES}`;
    return [{ path: ['stages', s, 'dependsOn'], message }];
  });
}
