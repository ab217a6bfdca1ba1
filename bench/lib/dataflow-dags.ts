/**
 * The DAG shapes of bench:dataflow, each as a TM dataflow job's stages and as the same graph of
 * single tasks (each task's upstream task indexes) for a peer such as Dask to build.
 */
import type { DataflowJobRequest } from '../../protocol/index.ts';

type Stages = DataflowJobRequest['stages'];

export interface Dag {
  name: string;
  /** What the shape is, for the report. */
  shape: string;
  stages: Stages;
  /** The same graph task by task: the indexes of each task's upstream tasks. */
  taskDeps: number[][];
  tasks: number;
  /** Task-to-task dependency edges (a stage of N after one of M adds N × M). */
  edges: number;
  /** Name of the DAG whose task graph this one repeats, when only the stage layout differs. */
  sameTasksAs?: string;
}

const echo = (name: string, dependsOn?: string[], parallelism?: number): Stages[number] => ({
  name,
  kind: 'echo',
  ...(dependsOn ? { dependsOn } : {}),
  ...(parallelism ? { parallelism } : {}),
});

/** Expands stages into tasks: every instance of a stage depends on every instance upstream. */
function taskGraph(stages: Stages): number[][] {
  const first = new Map<string, number[]>();
  const deps: number[][] = [];
  for (const stage of stages) {
    const upstream = (stage.dependsOn ?? []).flatMap((name) => first.get(name) ?? []);
    const own = Array.from({ length: stage.parallelism ?? 1 }, () => deps.push(upstream) - 1);
    first.set(stage.name, own);
  }
  return deps;
}

function dag(name: string, shape: string, stages: Stages, sameTasksAs?: string): Dag {
  const taskDeps = taskGraph(stages);
  return {
    name,
    shape,
    stages,
    taskDeps,
    tasks: taskDeps.length,
    edges: taskDeps.reduce((sum, deps) => sum + deps.length, 0),
    ...(sameTasksAs ? { sameTasksAs } : {}),
  };
}

const names = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** One root, then `size - 1` stages that each depend on it. */
export const fanOut = (size: number) =>
  dag('fan-out', `root → ${size - 1} stages`, [
    echo('root'),
    ...names(size - 1, 'leaf').map((name) => echo(name, ['root'])),
  ]);

/** One root, then one stage of parallelism `size - 1`: the fan-out's task graph in two stages. */
export const fanOutWide = (size: number) =>
  dag(
    'fan-out wide',
    `root → 1 stage × ${size - 1}`,
    [echo('root'), echo('leaves', ['root'], size - 1)],
    'fan-out',
  );

/** `size` stages in a line. */
export const chain = (size: number) =>
  dag(
    'chain',
    `${size} stages in a line`,
    names(size, 's').map((name, i) => echo(name, i === 0 ? undefined : [`s${i - 1}`])),
  );

/** One root, `size - 2` middle stages after it, and a sink after all of them. */
export const diamond = (size: number) => {
  const middles = names(size - 2, 'mid');
  return dag('diamond', `root → ${size - 2} stages → sink`, [
    echo('root'),
    ...middles.map((name) => echo(name, ['root'])),
    echo('sink', middles),
  ]);
};

/** The diamond's task graph in three stages: root, one stage of `size - 2`, sink. */
export const diamondWide = (size: number) =>
  dag(
    'diamond wide',
    `root → 1 stage × ${size - 2} → sink`,
    [echo('root'), echo('middle', ['root'], size - 2), echo('sink', ['middle'])],
    'diamond',
  );

export const allDags = (size: number): Dag[] => [
  fanOut(size),
  fanOutWide(size),
  chain(size),
  diamond(size),
  diamondWide(size),
];
