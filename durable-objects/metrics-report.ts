/**
 * What the control plane's `GET /metrics` shows (docs/observability.md): the stored counters and
 * histograms (metric-tally.ts), and gauges read at the scrape: the queue, the agents, the storage.
 */
import { z } from 'zod';
import {
  AttemptOutcome,
  histogramSeries,
  WorkerState,
  type MetricFamily,
  type MetricLabels,
  type MetricSample,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { readCounters, type CounterRow } from './db/metric-counters.ts';
import { queueReport } from './queue-report.ts';
import { countWorkersByState } from './db/workers.ts';
import {
  count,
  countTally,
  HTTP_REQUESTS,
  labelKey,
  LATENCY_BOUNDS,
  LEASE_EXPIRIES,
  TASK_ATTEMPTS_ENDED,
  TASK_ATTEMPTS_STARTED,
  TASK_QUEUE_SECONDS,
  TASK_RUN_SECONDS,
  newTally,
} from './metric-tally.ts';

/**
 * Requests a Worker isolate answered since it last reported: their method, their route's pattern
 * (never the raw path), their status, and how many.
 */
export interface AnsweredRequests {
  method: string;
  route: string;
  status: number;
  count: number;
}

export function countRequests(core: Core, batch: readonly AnsweredRequests[]): void {
  const tally = newTally();
  for (const { method, route, status, count: times } of batch)
    count(tally, HTTP_REQUESTS, { method, route, status: String(status) }, times);
  countTally(core.sql, tally);
}

export function metricsReport(core: Core, databaseSizeBytes: number): MetricFamily[] {
  const stored = storedSeries(readCounters(core.sql));
  const series = (name: string) => stored.filter((row) => row.name === name);
  return [
    queueFamily(core),
    {
      name: TASK_ATTEMPTS_STARTED,
      help: 'Task attempts that started running on an agent (a retry is another attempt).',
      type: 'counter',
      samples: withZeros(series(TASK_ATTEMPTS_STARTED), [{}]),
    },
    {
      name: TASK_ATTEMPTS_ENDED,
      help: 'Task attempts that ended, by outcome: succeeded, failed, timed_out, lost, cancelled.',
      type: 'counter',
      samples: withZeros(
        series(TASK_ATTEMPTS_ENDED),
        AttemptOutcome.options.map((outcome) => ({ outcome })),
      ),
    },
    histogram(
      stored,
      TASK_QUEUE_SECONDS,
      "Seconds from a task's submit to the start of its first attempt.",
    ),
    histogram(stored, TASK_RUN_SECONDS, "Seconds from an attempt's start to its end, any outcome."),
    agentsFamily(core),
    {
      name: LEASE_EXPIRIES,
      help: "Leases that expired: an agent's (its heartbeats stopped) or a job's (lost attempts).",
      type: 'counter',
      samples: withZeros(series(LEASE_EXPIRIES), [{ lease: 'agent' }, { lease: 'job' }]),
    },
    {
      name: 'tm_scheduler_storage_bytes',
      help: "Bytes of the Scheduler Durable Object's SQLite database.",
      type: 'gauge',
      samples: [{ value: databaseSizeBytes }],
    },
    {
      name: HTTP_REQUESTS,
      help: 'API requests answered, by method, route pattern and status.',
      type: 'counter',
      samples: series(HTTP_REQUESTS),
    },
  ];
}

function queueFamily(core: Core): MetricFamily {
  const samples = queueReport(core).entries.flatMap((entry) => {
    const labels = { tenant: entry.tenant ?? '', pipeline: entry.pipeline ?? '' };
    return [
      { labels: { ...labels, state: 'queued' }, value: entry.queued },
      { labels: { ...labels, state: 'running' }, value: entry.running },
    ];
  });
  return {
    name: 'tm_queue_tasks',
    help: 'Live tasks by tenant and pipeline ("" for none), queued or running (assigned or running).',
    type: 'gauge',
    samples,
  };
}

function agentsFamily(core: Core): MetricFamily {
  const counted = countWorkersByState(core.sql);
  const samples = WorkerState.options
    .filter((state) => state !== 'gone')
    .flatMap((state) =>
      [true, false].map((connected) => ({
        labels: { state, connected: String(connected) },
        value:
          counted.find((row) => row.state === state && row.connected === (connected ? 1 : 0))?.n ??
          0,
      })),
    );
  return {
    name: 'tm_agents',
    help: 'Registered workers (not gone) by state, and whether their agent is connected.',
    type: 'gauge',
    samples,
  };
}

const Labels = z.record(z.string(), z.string());

interface StoredSeries {
  name: string;
  labels: MetricLabels;
  value: number;
}

function storedSeries(rows: readonly CounterRow[]): StoredSeries[] {
  return rows.map((row) => ({ ...row, labels: Labels.parse(JSON.parse(row.labels)) }));
}

/** The stored samples, and a zero for each expected label set not yet counted. */
function withZeros(
  rows: readonly StoredSeries[],
  expected: readonly MetricLabels[],
): MetricSample[] {
  const samples: MetricSample[] = rows.map(({ labels, value }) => ({ labels, value }));
  const present = new Set(samples.map((sample) => labelKey(sample.labels ?? {})));
  for (const labels of expected)
    if (!present.has(labelKey(labels))) samples.push({ labels, value: 0 });
  return samples;
}

function histogram(rows: readonly StoredSeries[], name: string, help: string): MetricFamily {
  const counts = [...LATENCY_BOUNDS, Infinity].map((bound) => {
    const le = bound === Infinity ? '+Inf' : String(bound);
    return rows.find((row) => row.name === name && row.labels.le === le)?.value ?? 0;
  });
  const sum = rows.find((row) => row.name === `${name}_sum`)?.value ?? 0;
  return { name, help, type: 'histogram', series: [histogramSeries(LATENCY_BOUNDS, counts, sum)] };
}
