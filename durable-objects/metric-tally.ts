/**
 * The control plane's Prometheus counters as a transition counts them: increments gathered in a
 * `Tally` (pure), then added to the `metric_counters` table in the same transaction as the change
 * they count (`countTally`), so a restart or an eviction loses none and counts none twice.
 * A histogram is stored as counters too: one per bucket (not cumulative; `le` names the bucket's
 * bound, `+Inf` the overflow) and its sum under `<name>_sum`.
 */
import type { MetricLabels } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { addToCounters, type CounterIncrement } from './db/metric-counters.ts';

export const TASK_ATTEMPTS_STARTED = 'tm_task_attempts_started_total';
export const TASK_ATTEMPTS_ENDED = 'tm_task_attempts_ended_total';
export const TASK_QUEUE_SECONDS = 'tm_task_queue_seconds';
export const TASK_RUN_SECONDS = 'tm_task_run_seconds';
export const LEASE_EXPIRIES = 'tm_lease_expiries_total';
export const HTTP_REQUESTS = 'tm_http_requests_total';

/** Buckets of both latency histograms, in seconds: from a queue that is empty to an hour's run. */
export const LATENCY_BOUNDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

export type Tally = Map<string, CounterIncrement>;

export const newTally = (): Tally => new Map();

/** Adds `by` to the counter `name` with these labels. */
export function count(tally: Tally, name: string, labels: MetricLabels = {}, by = 1): void {
  const key = labelKey(labels);
  const id = `${name}\u0000${key}`;
  const entry = tally.get(id);
  if (entry) entry.by += by;
  else tally.set(id, { name, labels: key, by });
}

/** Observes `seconds` into the histogram `name` (a negative time, from a clock step, counts as 0). */
export function observe(tally: Tally, name: string, seconds: number): void {
  const value = Math.max(0, seconds);
  count(tally, name, { le: bucketOf(value) });
  count(tally, `${name}_sum`, {}, value);
}

/** The bound of the bucket a value falls in, as its `le` label writes it. */
export function bucketOf(value: number, bounds = LATENCY_BOUNDS): string {
  const bound = bounds.find((le) => value <= le);
  return bound === undefined ? '+Inf' : String(bound);
}

/** Labels as stored: a JSON object with its keys sorted, so one series is always one row. */
export function labelKey(labels: MetricLabels): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => [key, labels[key]]);
  return JSON.stringify(Object.fromEntries(sorted));
}

/** Writes the tally's increments; call it inside the transaction of the change they count. */
export function countTally(sql: Sql, tally: Tally): void {
  if (tally.size > 0) addToCounters(sql, [...tally.values()]);
}

/** One increment written at once, for transitions that count a single thing. */
export function countOne(sql: Sql, name: string, labels: MetricLabels = {}, by = 1): void {
  const tally = newTally();
  count(tally, name, labels, by);
  countTally(sql, tally);
}
