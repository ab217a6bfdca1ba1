/** The agent's HTTP face on its address: GET /healthz (JSON) and GET /metrics (Prometheus text). */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { PROMETHEUS_CONTENT_TYPE, renderExposition } from '../protocol/index.ts';
import type { MetricFamily } from '../protocol/index.ts';
import { EventLoopLag } from './event-loop-lag.ts';

export interface HealthSnapshot {
  connected: boolean;
  workerId: string | null;
  address: string;
  runningTasks: number;
  slots: number;
  tasksCompleted: number;
  tasksFailed: number;
  /** Running tasks by kind, a zero for each kind the agent runs. */
  runningByKind: Record<string, number>;
  /** What map tasks have read since the agent started (read-totals.ts). */
  reads: { rows: number; storeBytes: number; cacheBytes: number };
}

/** What the process itself measures at each scrape. */
export interface ProcessFigures {
  residentMemoryBytes: number;
  eventLoopLagSeconds: number;
}

export interface HealthServerOptions {
  host: string;
  port: number;
  snapshot(): HealthSnapshot;
}

/** Listens on host:port; rejects with a plain explanation when it cannot (port taken, bad host). */
export function startHealthServer(options: HealthServerOptions): Promise<Server> {
  const lag = new EventLoopLag();
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/healthz') {
      const { connected, workerId, address, runningTasks, slots } = options.snapshot();
      const body = JSON.stringify({ ok: true, connected, workerId, address, runningTasks, slots });
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (request.method === 'GET' && path === '/metrics') {
      const figures = {
        residentMemoryBytes: process.memoryUsage.rss(),
        eventLoopLagSeconds: lag.take(),
      };
      response
        .writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE })
        .end(renderMetrics(options.snapshot(), figures));
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }));
    }
  });
  server.once('close', () => lag.stop());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      lag.stop();
      reject(listenError(error, options));
    });
    server.listen(options.port, options.host, () => resolve(server));
  });
}

function listenError(error: NodeJS.ErrnoException, { host, port }: HealthServerOptions): Error {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new Error(
      `cannot serve /healthz on ${where}: the port is already in use (is another agent running?)`,
    );
  }
  if (error.code === 'EACCES') {
    return new Error(`cannot serve /healthz on ${where}: permission denied`);
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new Error(
      `cannot serve /healthz on ${where}: ${host} is not an address of this machine`,
    );
  }
  return new Error(`cannot serve /healthz on ${where}: ${error.message}`);
}

/** Prometheus text exposition of the agent's gauges and counters (docs/observability.md). */
export function renderMetrics(snapshot: HealthSnapshot, figures: ProcessFigures): string {
  const one = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    value: number,
  ): MetricFamily => ({ name, help, type, samples: [{ value }] });
  return renderExposition([
    one(
      'tm_agent_connected',
      'gauge',
      'Whether the agent holds a welcomed control plane connection.',
      snapshot.connected ? 1 : 0,
    ),
    one('tm_agent_running_tasks', 'gauge', 'Tasks running on this agent.', snapshot.runningTasks),
    {
      name: 'tm_agent_tasks_running',
      help: 'Tasks running on this agent, by kind.',
      type: 'gauge',
      samples: Object.entries(snapshot.runningByKind).map(([kind, value]) => ({
        labels: { kind },
        value,
      })),
    },
    one(
      'tm_agent_tasks_completed_total',
      'counter',
      'Tasks that ended successfully.',
      snapshot.tasksCompleted,
    ),
    one(
      'tm_agent_tasks_failed_total',
      'counter',
      'Tasks that failed, timed out, were refused or cancelled.',
      snapshot.tasksFailed,
    ),
    {
      name: 'tm_agent_read_bytes_total',
      help: 'Bytes map tasks read, by source: the object store, or the block cache.',
      type: 'counter',
      samples: [
        { labels: { source: 'store' }, value: snapshot.reads.storeBytes },
        { labels: { source: 'cache' }, value: snapshot.reads.cacheBytes },
      ],
    },
    one(
      'tm_agent_map_rows_total',
      'counter',
      'Rows map tasks read (rate() of it is rows per second).',
      snapshot.reads.rows,
    ),
    one(
      'process_resident_memory_bytes',
      'gauge',
      'Resident set size of the agent process.',
      figures.residentMemoryBytes,
    ),
    one(
      'tm_agent_event_loop_lag_seconds',
      'gauge',
      "99th percentile of the event loop's lag since the previous scrape.",
      figures.eventLoopLagSeconds,
    ),
  ]);
}
