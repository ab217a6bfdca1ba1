import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { LOCAL_BUCKET, startStack } from '../cli/local/stack.ts';
import { freePort } from '../cli/local/ports.ts';
import { localStoreAccess } from '../cli/local/s3-server.ts';
import { agentCacheDir } from '../cli/local/agent-process.ts';
import { createObjectStore } from '../worker-agent/storage/index.ts';
import { ensureSalesDataset } from './lib/sales-dataset.ts';
import { cpuSeconds } from './lib/process-cpu.ts';

const dataset = ensureSalesDataset(10, 1_000_000);
const stateDir = mkdtempSync(join(tmpdir(), 'tm-exp-'));
const extra = process.env.EXP_ARGS ? process.env.EXP_ARGS.split(' ') : [];
const stack = await startStack({ stateDir, port: await freePort(), agentPorts: [await freePort()], s3Port: await freePort() });
try {
  const store = createObjectStore(localStoreAccess(stack.s3!.endpoint, LOCAL_BUCKET));
  for (const file of dataset.files) await store.put(`bench/sales/${basename(file)}`, readFileSync(file));
  store.close();
  const s3pid = Number(execSync(`pgrep -f s3rver.js | head -1`).toString().trim());
  const agentPid = stack.agents[0]!.process.pid!;
  const agentPids = () => execSync(`pgrep -P ${agentPid} || true`).toString().trim().split('\n').filter(Boolean).map(Number);
  const cpuAgent = () => cpuSeconds(agentPid) + agentPids().reduce((s, p) => s + cpuSeconds(p), 0);
  const request = {
    kind: 'aggregate' as const,
    source: { store: LOCAL_BUCKET, prefix: 'bench/sales/', format: 'parquet' as const },
    groupBy: ['region'],
    aggregates: [{ op: 'count' as const }, { op: 'sum' as const, column: 'price' }, { op: 'avg' as const, column: 'quantity' }],
  };
  await stack.client.submitJob(request, 300);
  for (const mode of (process.env.EXP_MODES ?? 'cold,warm,cold,warm,cold,warm').split(',')) {
    if (mode === 'cold') rmSync(agentCacheDir(stateDir, stack.agents[0]!.address), { recursive: true, force: true });
    const a0 = cpuAgent(), s0 = cpuSeconds(s3pid);
    const t0 = performance.now();
    const job = await stack.client.submitJob(request, 300);
    const wall = (performance.now() - t0) / 1000;
    const a1 = cpuAgent(), s1 = cpuSeconds(s3pid);
    const full = await stack.client.getJob(job.id, 100);
    const tasks = full.tasks ?? [];
    const created = Date.parse(full.createdAt);
    const span = (kind: string) => {
      const ts = tasks.filter((t) => t.kind === kind);
      const start = Math.min(...ts.map((t) => Date.parse(t.startedAt!)));
      const end = Math.max(...ts.map((t) => Date.parse(t.finishedAt!)));
      return `${kind.replace('aggregate-', '')} ${start - created}-${end - created}ms`;
    };
    console.log(mode, `wall ${wall.toFixed(2)}s agentCPU ${(a1 - a0).toFixed(2)} s3CPU ${(s1 - s0).toFixed(2)}`, span('aggregate-map'), span('aggregate-reduce'), span('aggregate-final'), `finished ${Date.parse(full.finishedAt!) - created}ms`);
  }
} finally {
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
