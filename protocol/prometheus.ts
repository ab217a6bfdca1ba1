/**
 * The Prometheus text exposition format (version 0.0.4), which the control plane's and the agents'
 * `/metrics` both speak: metric families in, text out. Pure; shared so that both escape alike.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricLabels = Readonly<Record<string, string>>;

export interface MetricSample {
  labels?: MetricLabels;
  value: number;
}

export interface HistogramSeries {
  labels?: MetricLabels;
  /** Upper bounds, ascending, each with how many observations were at or below it (cumulative). */
  buckets: readonly { le: number; count: number }[];
  sum: number;
  /** Every observation: the `+Inf` bucket. */
  count: number;
}

export type MetricFamily =
  | {
      name: string;
      help: string;
      type: 'counter' | 'gauge';
      samples: readonly MetricSample[];
    }
  | { name: string; help: string; type: 'histogram'; series: readonly HistogramSeries[] };

/** The text of the given families, in order, each with its HELP and TYPE lines. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const series of family.series) lines.push(...histogramLines(family.name, series));
    } else {
      for (const sample of family.samples)
        lines.push(sampleLine(family.name, sample.labels, sample.value));
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function histogramLines(name: string, series: HistogramSeries): string[] {
  const labels = series.labels ?? {};
  return [
    ...series.buckets.map((bucket) =>
      sampleLine(`${name}_bucket`, { ...labels, le: formatValue(bucket.le) }, bucket.count),
    ),
    sampleLine(`${name}_bucket`, { ...labels, le: '+Inf' }, series.count),
    sampleLine(`${name}_sum`, labels, series.sum),
    sampleLine(`${name}_count`, labels, series.count),
  ];
}

function sampleLine(name: string, labels: MetricLabels | undefined, value: number): string {
  const pairs = Object.entries(labels ?? {}).map(
    ([key, labelValue]) => `${key}="${escapeLabelValue(labelValue)}"`,
  );
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`;
}

/** A label value as the format writes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed (a quote is left as it is). */
function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Numbers as Go's ParseFloat reads them: `+Inf`, `-Inf` and `NaN` by those names. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * A histogram's series from per-bucket counts (not cumulative): `counts[i]` observations fell in
 * bucket i (at or below `bounds[i]`, above the bound before), and `counts[bounds.length]` above
 * the last bound.
 */
export function histogramSeries(
  bounds: readonly number[],
  counts: readonly number[],
  sum: number,
  labels?: MetricLabels,
): HistogramSeries {
  let running = 0;
  const buckets = bounds.map((le, i) => {
    running += counts[i] ?? 0;
    return { le, count: running };
  });
  const count = running + (counts[bounds.length] ?? 0);
  return { ...(labels ? { labels } : {}), buckets, sum, count };
}
