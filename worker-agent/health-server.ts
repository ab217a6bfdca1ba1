/** The agent's HTTP face on its address: GET /healthz (JSON) and GET /metrics (Prometheus text). */
import { createServer } from 'node:http';
import type { Server } from 'node:http';

export interface HealthSnapshot {
  connected: boolean;
  workerId: string | null;
  address: string;
  runningTasks: number;
  slots: number;
  tasksCompleted: number;
  tasksFailed: number;
}

export interface HealthServerOptions {
  host: string;
  port: number;
  snapshot(): HealthSnapshot;
}

/** Listens on host:port; rejects with a plain explanation when it cannot (port taken, bad host). */
export function startHealthServer(options: HealthServerOptions): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/healthz') {
      const { connected, workerId, address, runningTasks, slots } = options.snapshot();
      const body = JSON.stringify({ ok: true, connected, workerId, address, runningTasks, slots });
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (request.method === 'GET' && path === '/metrics') {
      response
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        .end(renderMetrics(options.snapshot()));
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options)));
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

/** Prometheus text exposition of the agent's gauges and counters. */
export function renderMetrics(snapshot: HealthSnapshot): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  };
  metric(
    'tm_agent_connected',
    'gauge',
    'Whether the agent holds a welcomed control plane connection.',
    snapshot.connected ? 1 : 0,
  );
  metric('tm_agent_running_tasks', 'gauge', 'Tasks running on this agent.', snapshot.runningTasks);
  metric(
    'tm_agent_tasks_completed_total',
    'counter',
    'Tasks that ended successfully.',
    snapshot.tasksCompleted,
  );
  metric(
    'tm_agent_tasks_failed_total',
    'counter',
    'Tasks that failed, timed out, were refused or cancelled.',
    snapshot.tasksFailed,
  );
  return lines.join('\n') + '\n';
}
