// @ts-check
/** A dataflow job's stages as a graph: a column per depth, `dependsOn` solid, `streamFrom` dashed. */
import { s } from './svg.js';

/** @typedef {import('../../protocol/dataflow.ts').StageView} StageView */

const BOX_W = 150;
const BOX_H = 44;
const GAP_X = 60;
const GAP_Y = 18;
const COLOURS = /** @type {Record<string, string>} */ ({
  succeeded: '#dcf5e6',
  running: '#e1ebfb',
  failed: '#fbe1e1',
  cancelled: '#eef0f4',
  waiting: '#fbf0dc',
});

/** Each stage's depth: 0 for one with no inputs, else one past its deepest input. @param {StageView[]} stages */
export function depths(stages) {
  /** @type {Map<string, number>} */
  const depth = new Map();
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  /** @param {string} name @param {Set<string>} seen @returns {number} */
  const of = (name, seen) => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const stage = byName.get(name);
    if (!stage || seen.has(name)) return 0;
    seen.add(name);
    const inputs = [...stage.dependsOn, ...stage.streamFrom];
    const d = inputs.length === 0 ? 0 : 1 + Math.max(...inputs.map((input) => of(input, seen)));
    depth.set(name, d);
    return d;
  };
  for (const stage of stages) of(stage.name, new Set());
  return depth;
}

/** @param {StageView[]} stages */
export function dagChart(stages) {
  const depth = depths(stages);
  /** @type {Map<number, number>} */
  const rowsAt = new Map();
  /** @type {Map<string, { x: number; y: number }>} */
  const at = new Map();
  for (const stage of stages) {
    const column = depth.get(stage.name) ?? 0;
    const row = rowsAt.get(column) ?? 0;
    rowsAt.set(column, row + 1);
    at.set(stage.name, { x: 10 + column * (BOX_W + GAP_X), y: 10 + row * (BOX_H + GAP_Y) });
  }
  const columns = Math.max(0, ...depth.values()) + 1;
  const rows = Math.max(1, ...rowsAt.values());
  const edges = stages.flatMap((stage) => {
    const to = at.get(stage.name);
    /** @param {string} from @param {boolean} stream */
    const edge = (from, stream) => {
      const start = at.get(from);
      if (!start || !to) return [];
      return [
        s('line', {
          x1: start.x + BOX_W,
          y1: start.y + BOX_H / 2,
          x2: to.x,
          y2: to.y + BOX_H / 2,
          stroke: '#6b7280',
          'stroke-dasharray': stream ? '5 4' : 'none',
          'marker-end': 'url(#arrow)',
          'data-edge': `${from}->${stage.name}`,
        }),
      ];
    };
    return [
      ...stage.dependsOn.map((from) => edge(from, false)),
      ...stage.streamFrom.map((from) => edge(from, true)),
    ].flat();
  });
  const boxes = stages.map((stage) => {
    const { x, y } = at.get(stage.name) ?? { x: 0, y: 0 };
    const done = stage.counts.succeeded;
    return s(
      'g',
      { 'data-stage': stage.name },
      s('rect', {
        x,
        y,
        width: BOX_W,
        height: BOX_H,
        rx: 6,
        fill: COLOURS[stage.state] ?? '#fff',
        stroke: '#9aa3b2',
      }),
      s('text', { x: x + 8, y: y + 17 }, `${stage.name} (${stage.kind})`),
      s('text', { x: x + 8, y: y + 34 }, `${stage.state} · ${done}/${stage.parallelism}`),
    );
  });
  return s(
    'svg',
    {
      class: 'dag',
      width: columns * (BOX_W + GAP_X) + 20,
      height: rows * (BOX_H + GAP_Y) + 20,
      role: 'img',
      'aria-label': 'dataflow stages',
    },
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 10,
          refY: 5,
          markerWidth: 6,
          markerHeight: 6,
          orient: 'auto',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#6b7280' }),
      ),
    ),
    ...edges,
    ...boxes,
  );
}
