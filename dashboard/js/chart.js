// @ts-check
/** The throughput chart: tasks succeeded and attempts failed per second, per bucket, as SVG bars. */
import { s } from './svg.js';

/** @typedef {import('../../protocol/overview.ts').Throughput} Throughput */

const WIDTH = 1000;
const HEIGHT = 150;
const LEFT = 36;
const BOTTOM = 18;

/** @param {Throughput} throughput */
export function throughputChart(throughput) {
  const { buckets, bucketSeconds } = throughput;
  const perSecond = (/** @type {number} */ n) => n / bucketSeconds;
  const peak = Math.max(0.1, ...buckets.map((b) => perSecond(b.succeeded + b.failed)));
  const plotW = WIDTH - LEFT;
  const plotH = HEIGHT - BOTTOM;
  const barW = plotW / Math.max(1, buckets.length);
  const y = (/** @type {number} */ rate) => plotH - (rate / peak) * plotH;
  const bars = buckets.flatMap((bucket, i) => {
    const x = LEFT + i * barW;
    const ok = perSecond(bucket.succeeded);
    const bad = perSecond(bucket.failed);
    const title = `${new Date(bucket.start).toLocaleTimeString()}: ${ok.toFixed(2)} tasks/s, ${bad.toFixed(2)} failures/s`;
    return [
      s(
        'rect',
        { x, y: y(ok), width: Math.max(1, barW - 1), height: plotH - y(ok), fill: '#2f6fd6' },
        s('title', {}, title),
      ),
      s(
        'rect',
        {
          x,
          y: y(ok + bad),
          width: Math.max(1, barW - 1),
          height: y(ok) - y(ok + bad),
          fill: '#d64545',
        },
        s('title', {}, title),
      ),
    ];
  });
  const minutes = Math.round(throughput.windowSeconds / 60);
  return s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      width: '100%',
      role: 'img',
      'aria-label': 'throughput',
    },
    s('line', { x1: LEFT, y1: plotH, x2: WIDTH, y2: plotH, stroke: '#ccc' }),
    s('text', { x: 0, y: 10 }, `${peak.toFixed(peak < 10 ? 1 : 0)}/s`),
    s('text', { x: 0, y: plotH }, '0'),
    s('text', { x: LEFT, y: HEIGHT - 4 }, `${minutes} min ago`),
    s('text', { x: WIDTH - 24, y: HEIGHT - 4 }, 'now'),
    ...bars,
  );
}
