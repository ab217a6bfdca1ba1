/** Small statistics for benchmark figures. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export interface Summary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    mean,
    n: sorted.length,
  };
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;
export const rate = (count: number, millis: number) => Math.round((count * 1000) / millis);
