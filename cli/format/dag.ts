/**
 * A dataflow job's stages drawn as their DAG, in topological layers (each stage one layer below
 * its lowest-placed upstream), for `tm job` and `tm submit-job --wait`:
 *
 *   1 ── split  succeeded  3/3  0.40s
 *   2 ┬─ left   running    0/1  0.12s  <- split
 *     └─ right  waiting    0/2         <- split
 *   3 ── join   waiting    0/1         <- left, right
 *
 * A stage's stream edges follow as `<~ a (stream)`, its stream group's restarts as
 * `restarted 1×`, and under it the job an aggregate stage runs (`→ job …`), what a waiting stream
 * group waits for (`… waiting: …`) and a failed stage's error (`! …`).
 *
 * Past `compactAbove` stages (50), layers in a row whose stages share a state are one line, and
 * a layer of several states one line per state, so a wide fan-out or a long chain stays short.
 */
import type { StageView } from '../../protocol/index.ts';
import { stageOrder } from '../../protocol/index.ts';
import { duration } from './duration.ts';
import { truncate } from './table.ts';

/** What the drawing reads of a stage. */
export type DagStage = Pick<
  StageView,
  | 'name'
  | 'state'
  | 'parallelism'
  | 'dependsOn'
  | 'streamFrom'
  | 'counts'
  | 'error'
  | 'waitingFor'
  | 'restarts'
  | 'startedAt'
  | 'finishedAt'
> &
  Partial<Pick<StageView, 'job'>>;

export interface DagOptions {
  /** Line width; longer lines are cut with `…` (default: no limit). */
  width?: number;
  /** Draw each stage up to this many stages, then the compact form (default 50). */
  compactAbove?: number;
  /** The time running stages are measured to (default now). */
  now?: number;
}

/** Names listed on a compact line before `+N more`. */
const NAMES_SHOWN = 4;

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

const restartsCell = (restarts: number) => (restarts > 0 ? `restarted ${restarts}×` : '');

/** A stage's lines under its row: what it waits for, and why it failed (`name: ` in a group). */
const stageNotes = (stage: DagStage, prefix = '') => [
  ...(stage.job ? [`→ ${prefix}job ${stage.job}`] : []),
  ...(stage.waitingFor ? [`… ${prefix}waiting: ${oneLine(stage.waitingFor)}`] : []),
  ...(stage.error && stage.state !== 'succeeded' ? [`! ${prefix}${oneLine(stage.error)}`] : []),
];

const upstreamsOf = (stage: DagStage) => [...stage.dependsOn, ...stage.streamFrom];

/** The stages' indexes by layer: the first layer's stages depend on none. */
export function stageLayers(stages: readonly DagStage[]): number[][] {
  const index = new Map(stages.map((stage, s) => [stage.name, s]));
  const layer = new Array<number>(stages.length).fill(0);
  for (const s of stageOrder(stages.map((stage) => ({ ...stage, dependsOn: upstreamsOf(stage) }))))
    for (const upstream of upstreamsOf(stages[s]!)) {
      const u = index.get(upstream);
      if (u !== undefined && u !== s) layer[s] = Math.max(layer[s]!, layer[u]! + 1);
    }
  const layers: number[][] = [];
  layer.forEach((l, s) => (layers[l] ??= []).push(s));
  return layers.filter(Boolean);
}

export function drawDag(stages: readonly DagStage[], options: DagOptions = {}): string {
  if (stages.length === 0) return '(no stages)';
  const { width = Infinity, compactAbove = 50, now = Date.now() } = options;
  const layers = stageLayers(stages);
  const rows =
    stages.length > compactAbove
      ? compactRows(stages, layers, now)
      : layers.flatMap((layer, l) =>
          layer.map((s, i) => row(`${l + 1}`, i, layer.length, stageCells(stages[s]!, now))),
        );
  return render(rows, width);
}

interface Row {
  label: string;
  connector: string;
  cells: string[];
  /** Lines under the row (what a stage waits for, a failed stage's error), beside the layer's bar. */
  notes: string[];
  /** More rows of the same layer follow: its bar goes on past the notes. */
  more: boolean;
}

const row = (
  label: string,
  i: number,
  count: number,
  [cells, notes]: [string[], string[]],
): Row => ({
  label: i === 0 ? label : '',
  connector: count === 1 ? '──' : i === 0 ? '┬─' : i === count - 1 ? '└─' : '├─',
  cells,
  notes,
  more: i < count - 1,
});

/** The first `shown` names, then how many more. */
const nameList = (names: readonly string[], shown = Infinity) =>
  names.slice(0, shown).join(', ') +
  (names.length > shown ? `, +${names.length - shown} more` : '');

/**
 * A stage's cells: name, state, succeeded/instances (and any other counts), time, restarts,
 * upstreams; and its notes.
 */
function stageCells(stage: DagStage, now: number, namesShown = Infinity): [string[], string[]] {
  const c = stage.counts;
  const others = (['running', 'queued', 'failed', 'cancelled'] as const)
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`);
  const tasks = `${c.succeeded}/${stage.parallelism}${others.length ? ` (${others.join(', ')})` : ''}`;
  const time = stage.startedAt ? duration(stage.startedAt, stage.finishedAt, now) : '';
  const edges = [
    ...(stage.dependsOn.length ? [`<- ${nameList(stage.dependsOn, namesShown)}`] : []),
    ...(stage.streamFrom.length ? [`<~ ${nameList(stage.streamFrom, namesShown)} (stream)`] : []),
  ];
  return [
    [stage.name, stage.state, tasks, time, restartsCell(stage.restarts), edges.join('  ')],
    stageNotes(stage),
  ];
}

/** Layers in a row of one state as one line; a layer of several states, a line per state. */
function compactRows(stages: readonly DagStage[], layers: number[][], now: number): Row[] {
  const rows: Row[] = [];
  const groupsOf = (layer: number[]) => {
    const groups = new Map<string, number[]>();
    for (const s of layer)
      groups.set(stages[s]!.state, [...(groups.get(stages[s]!.state) ?? []), s]);
    return [...groups.entries()];
  };
  for (let l = 0; l < layers.length;) {
    const groups = groupsOf(layers[l]!);
    if (groups.length > 1) {
      groups.forEach(([state, members], i) =>
        rows.push(row(`${l + 1}`, i, groups.length, groupCells(stages, state, members, now))),
      );
      l++;
      continue;
    }
    const [state] = groups[0]!;
    let end = l + 1;
    while (end < layers.length) {
      const next = groupsOf(layers[end]!);
      if (next.length > 1 || next[0]![0] !== state) break;
      end++;
    }
    const members = layers.slice(l, end).flat();
    const label = end - l === 1 ? `${l + 1}` : `${l + 1}-${end}`;
    rows.push(row(label, 0, 1, groupCells(stages, state, members, now)));
    l = end;
  }
  return rows;
}

function groupCells(
  stages: readonly DagStage[],
  state: string,
  members: number[],
  now: number,
): [string[], string[]] {
  if (members.length === 1) return stageCells(stages[members[0]!]!, now, NAMES_SHOWN);
  const names = nameList(
    members.map((s) => stages[s]!.name),
    NAMES_SHOWN,
  );
  // The group's first waiting and first failed stage speak for it, and its most restarts.
  const notes = (['… ', '! '] as const).flatMap((kind) => {
    for (const s of members) {
      const note = stageNotes(stages[s]!, `${stages[s]!.name}: `).find((n) => n.startsWith(kind));
      if (note) return [note];
    }
    return [];
  });
  const restarts = Math.max(...members.map((s) => stages[s]!.restarts));
  return [[`${members.length} stages`, state, '', '', restartsCell(restarts), names], notes];
}

function render(rows: readonly Row[], width: number): string {
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const columns = rows[0]!.cells.length;
  // A column empty in every row (no stage has started: no times) takes no room.
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...rows.map((r) => r.cells[c]!.length)),
  );
  const cut = (line: string) => truncate(line, width);
  const lines: string[] = [];
  for (const r of rows) {
    const cells = r.cells
      .map((cell, c) => (c === columns - 1 ? cell : cell.padEnd(widths[c]!)))
      .filter((_, c) => widths[c]! > 0);
    lines.push(cut(`${r.label.padStart(labelWidth)} ${r.connector} ${cells.join('  ')}`.trimEnd()));
    const bar = r.more ? '│' : ' ';
    for (const note of r.notes) lines.push(cut(`${' '.repeat(labelWidth)} ${bar}    ${note}`));
  }
  return lines.join('\n');
}
