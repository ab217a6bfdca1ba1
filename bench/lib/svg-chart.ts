/** A small SVG line chart for benchmark curves: panels stacked over one shared x axis. */

export interface Panel {
  title: string;
  /** Unit shown after the axis's top value, e.g. "MB". */
  unit: string;
  points: readonly (readonly [x: number, y: number])[];
}

export interface Chart {
  title: string;
  xLabel: string;
  panels: readonly Panel[];
}

const WIDTH = 720;
const PANEL_HEIGHT = 200;
const MARGIN = { left: 70, right: 20, top: 40, gap: 50, bottom: 40 };

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1, 2 or 5 times a power of ten, at or above `value`: a round top for an axis. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

export const formatTick = (value: number): string =>
  value >= 1e6
    ? `${+(value / 1e6).toFixed(1)}M`
    : value >= 1e3
      ? `${+(value / 1e3).toFixed(1)}k`
      : `${+value.toFixed(1)}`;

function panelSvg(panel: Panel, top: number, xMax: number): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const yMax = niceCeiling(Math.max(0, ...panel.points.map(([, y]) => y)));
  const px = (x: number) => MARGIN.left + (x / xMax) * plotWidth;
  const py = (y: number) => top + PANEL_HEIGHT - (y / yMax) * PANEL_HEIGHT;
  const path = panel.points
    .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
    .join(' ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => {
    const y = py(share * yMax);
    return (
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>` +
      `<text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end">${formatTick(share * yMax)}</text>`
    );
  });
  return [
    `<text x="${MARGIN.left}" y="${top - 8}" font-weight="bold">${escape(panel.title)} (${escape(panel.unit)})</text>`,
    ...ticks,
    `<path d="${path}" fill="none" stroke="#2563eb" stroke-width="2"/>`,
  ].join('\n');
}

/** The chart as a standalone SVG document. */
export function renderChart(chart: Chart): string {
  const xMax = niceCeiling(Math.max(0, ...chart.panels.flatMap((p) => p.points.map(([x]) => x))));
  const panelTop = (i: number) => MARGIN.top + 14 + i * (PANEL_HEIGHT + MARGIN.gap);
  const panels = chart.panels.map((panel, i) => panelSvg(panel, panelTop(i), xMax));
  // The x axis's numbers go under the last panel's zero line, not on it.
  const axisY = panelTop(chart.panels.length) - MARGIN.gap + 16;
  const height = axisY + MARGIN.bottom;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map(
    (share) =>
      `<text x="${MARGIN.left + share * plotWidth}" y="${axisY}" text-anchor="middle">${formatTick(share * xMax)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${MARGIN.left}" y="20" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
    ...panels,
    ...xTicks,
    `<text x="${WIDTH / 2}" y="${axisY + 18}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
