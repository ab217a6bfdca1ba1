/**
 * End to end: `tm demo dataflow` (`npm run demo:dataflow`) as a user runs it: its own local stack
 * (wrangler dev, three agents), the seed's stream pipeline of examples/dataflow/seed/job.toml, an
 * agent SIGKILLed mid-run and started again, the group's restart, and the sink's count and checksum
 * equal to the producers'. On free ports and a state dir of its own, beside any stack on :8080.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/local/ports.ts';
import { runTmProcess } from '../support/tm-process.ts';

const root = mkdtempSync(join(tmpdir(), 'tm-demo-dataflow-'));
// TM_KEEP_TEST_STATE=1 keeps the state dir (wrangler's and the agents' logs) for a post-mortem.
afterAll(() => {
  if (!process.env.TM_KEEP_TEST_STATE) rmSync(root, { recursive: true, force: true });
});

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** The numbers of the report's `producers (sum)` or `sink` row: records and checksum. */
function row(stdout: string, name: string): [number, number] {
  const match = new RegExp(
    `^\\s+${name.replace(/[()]/g, '\\$&')}\\s+(\\d+)\\s+(\\d+)\\s*$`,
    'm',
  ).exec(stdout);
  expect(match, `a "${name}" row in:\n${stdout}`).not.toBeNull();
  return [Number(match![1]), Number(match![2])];
}

describe('tm demo dataflow', () => {
  it('streams the seed job, survives a SIGKILLed agent, and the sink matches the producers', async () => {
    const [port, ...agentPorts] = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const run = await runTmProcess(
      { url: `http://localhost:${port}`, token: '', configHome: join(root, 'config') },
      ['demo', 'dataflow'],
      {
        env: {
          TM_URL: undefined,
          TM_TOKEN: undefined,
          TM_UP_STATE_DIR: join(root, 'state'),
          TM_UP_PORT: String(port),
          TM_UP_AGENT_PORTS: agentPorts.join(','),
        },
      },
    );
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.code, run.stdout + run.stderr).toBe(0);

    // The whole group ran at once; an agent that ran some of it was killed and came back.
    expect(run.stdout).toMatch(/all 9 instances run at once, on 3 agents/);
    const killed = /SIGKILLed the agent at (localhost:\d+), which ran \w+#\d/.exec(run.stdout);
    expect(killed, run.stdout).not.toBeNull();
    expect(run.stdout).toContain(`the agent at ${killed![1]} runs again (the same worker)`);
    const restarts = /^\s+restarts\s+(\d+)/m.exec(run.stdout);
    expect(Number(restarts?.[1])).toBeGreaterThanOrEqual(1);

    // Throughput and latency, from the sink's result.
    expect(run.stdout).toMatch(/^\s+records\/s\s+[\d,]+ \([\d,]+ records in [\d.]+ s\)$/m);
    expect(run.stdout).toMatch(/^\s+latency\s+p50 \d+ ms, p95 \d+ ms, max \d+ ms/m);
    expect(run.stdout).toMatch(/\(0 records out of schema\)/);

    // Every produced record reached the sink exactly once.
    const [count, checksum] = row(run.stdout, 'producers (sum)');
    expect(count).toBe(16_000);
    expect(row(run.stdout, 'sink')).toEqual([count, checksum]);
    expect(run.stdout).toContain('equal: the sink holds every produced record exactly once');

    expect(await answers(`http://localhost:${port}`)).toBe(false);
  }, 150_000);
});
