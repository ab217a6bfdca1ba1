/** The agent's health server: /healthz JSON, /metrics text, 404 otherwise, clear error on a taken port. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderMetrics, startHealthServer } from '../../worker-agent/health-server.ts';
import type { HealthSnapshot } from '../../worker-agent/health-server.ts';

const snapshot: HealthSnapshot = {
  connected: true,
  workerId: '6f1c1b7e-9d1f-4a53-9f0e-2f3c1e0b8a11',
  address: 'localhost:50051',
  runningTasks: 3,
  slots: 4,
  tasksCompleted: 10,
  tasksFailed: 2,
  runningByKind: { command: 2, 'aggregate-map': 1, echo: 0 },
  reads: { rows: 1500, storeBytes: 4096, cacheBytes: 1024 },
};
let server: Server;
let base: string;

beforeAll(async () => {
  server = await startHealthServer({ host: '127.0.0.1', port: 0, snapshot: () => snapshot });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('health server', () => {
  it('serves /healthz', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      connected: true,
      workerId: snapshot.workerId,
      address: 'localhost:50051',
      runningTasks: 3,
      slots: 4,
    });
  });

  it('serves Prometheus metrics', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^# TYPE tm_agent_connected gauge\ntm_agent_connected 1$/m);
    expect(text).toMatch(/^tm_agent_running_tasks 3$/m);
    expect(text).toMatch(
      /^# TYPE tm_agent_tasks_completed_total counter\ntm_agent_tasks_completed_total 10$/m,
    );
    expect(text).toMatch(/^tm_agent_tasks_failed_total 2$/m);
    expect(text).toMatch(/^tm_agent_tasks_running\{kind="command"\} 2$/m);
    expect(text).toMatch(/^tm_agent_tasks_running\{kind="aggregate-map"\} 1$/m);
    expect(text).toMatch(/^tm_agent_tasks_running\{kind="echo"\} 0$/m);
    expect(text).toMatch(/^tm_agent_read_bytes_total\{source="store"\} 4096$/m);
    expect(text).toMatch(/^tm_agent_read_bytes_total\{source="cache"\} 1024$/m);
    expect(text).toMatch(/^# TYPE tm_agent_map_rows_total counter\ntm_agent_map_rows_total 1500$/m);
    const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1]);
    expect(rss).toBeGreaterThan(1_000_000);
    const lag = Number(/^tm_agent_event_loop_lag_seconds (\S+)$/m.exec(text)?.[1]);
    expect(lag).toBeGreaterThanOrEqual(0);
  });

  it('renders the process figures it is given', () => {
    const text = renderMetrics(snapshot, { residentMemoryBytes: 123, eventLoopLagSeconds: 0.25 });
    expect(text).toMatch(/^process_resident_memory_bytes 123$/m);
    expect(text).toMatch(/^tm_agent_event_loop_lag_seconds 0.25$/m);
  });

  it('answers 404 elsewhere', async () => {
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(404);
  });

  it('explains a port that is taken', async () => {
    const port = (server.address() as AddressInfo).port;
    await expect(
      startHealthServer({ host: '127.0.0.1', port, snapshot: () => snapshot }),
    ).rejects.toThrow(/the port is already in use/);
  });
});
