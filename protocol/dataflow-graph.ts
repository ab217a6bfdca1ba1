/**
 * Pure checks of a dataflow job's graph: names used once, dependencies that name a stage, no
 * cycle (the one found is named, stage by stage), and no more tasks than one job may have.
 */
import { MAX_TASKS_PER_JOB } from './limits.ts';

export interface StageShape {
  name: string;
  parallelism?: number | undefined;
  dependsOn?: readonly string[] | undefined;
}

export interface GraphIssue {
  path: (string | number)[];
  message: string;
}

/** What is wrong with the graph; empty when all is well. */
export function graphIssues(stages: readonly StageShape[]): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const index = new Map<string, number>();
  stages.forEach((stage, s) => {
    const first = index.get(stage.name);
    if (first === undefined) index.set(stage.name, s);
    else
      issues.push({
        path: ['stages', s, 'name'],
        message: `stage ${s + 1}: another stage (${first + 1}) is already named "${stage.name}"`,
      });
  });
  stages.forEach((stage, s) =>
    (stage.dependsOn ?? []).forEach((upstream, d) => {
      const path = ['stages', s, 'dependsOn', d];
      if (!index.has(upstream))
        issues.push({
          path,
          message: `stage "${stage.name}" depends on unknown stage "${upstream}"`,
        });
    }),
  );
  const tasks = stages.reduce((sum, stage) => sum + (stage.parallelism ?? 1), 0);
  if (tasks > MAX_TASKS_PER_JOB)
    issues.push({
      path: ['stages'],
      message: `the stages have ${tasks} instances in all; a job may have at most ${MAX_TASKS_PER_JOB} tasks`,
    });
  if (issues.length > 0) return issues;
  const cycle = findCycle(stages, index);
  if (cycle)
    issues.push({
      path: ['stages', index.get(cycle[0] ?? '') ?? 0, 'dependsOn'],
      message: `the stages form a cycle (each depends on the next): ${cycle.join(' → ')}`,
    });
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
    for (const upstream of stages[s]?.dependsOn ?? []) visit(index.get(upstream) ?? s);
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
      const deps = stages[s]?.dependsOn ?? [];
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
