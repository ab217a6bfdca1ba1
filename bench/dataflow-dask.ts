/**
 * Peer of bench:dataflow: runs bench/dataflow_dask.py (Dask distributed, a LocalCluster of
 * processes) over the same task graphs, installing Debian's python3-distributed first when no
 * Python here imports it and apt-get may be used; returns null, having said why, when it cannot.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Dag } from './lib/dataflow-dags.ts';

export interface DaskOptions {
  workers: number;
  threadsPerWorker: number;
  repeats: number;
  warmup: Dag;
  graphs: Dag[];
}

const DaskFigures = z.object({
  dask: z.string(),
  distributed: z.string(),
  python: z.string(),
  startupSeconds: z.number(),
  /** Seconds of each repeat, by graph name. */
  seconds: z.record(z.string(), z.array(z.number())),
});
export type DaskFigures = z.infer<typeof DaskFigures> & { interpreter: string };

const SCRIPT = fileURLToPath(new URL('./dataflow_dask.py', import.meta.url));
/** pyenv's python3 may come first on PATH; Debian's package installs for /usr/bin/python3. */
const INTERPRETERS = [process.env.BENCH_PYTHON ?? 'python3', '/usr/bin/python3'];

const importsDistributed = (python: string) =>
  spawnSync(python, ['-c', 'import distributed'], { stdio: 'ignore' }).status === 0;

const findInterpreter = () => INTERPRETERS.find(importsDistributed);

/** apt-get as root, or through sudo when it asks for no password; false when neither can. */
function aptInstall(): boolean {
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!asRoot && !sudo) return false;
  const run = (args: string[]) =>
    execFileSync(asRoot ? 'apt-get' : 'sudo', asRoot ? args : ['-n', 'apt-get', ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  try {
    console.log('Dask: python3-distributed is missing; apt-get install -y python3-distributed …');
    run(['update', '-qq']);
    run(['install', '-y', '-qq', 'python3-distributed']);
    return true;
  } catch (error) {
    console.log(`Dask: apt-get failed: ${(error as Error).message}`);
    return false;
  }
}

/** A Python that imports distributed, installing it if need be; null (said why) if none. */
export function daskInterpreter(): string | null {
  const found = findInterpreter() ?? (aptInstall() ? findInterpreter() : undefined);
  if (found) return found;
  console.log(
    'Dask peer skipped: no python3 here imports distributed and python3-distributed could not be installed (apt-get install -y python3-distributed, as root)',
  );
  return null;
}

export function runDask(python: string, options: DaskOptions): DaskFigures {
  const input = JSON.stringify({
    workers: options.workers,
    threads: options.threadsPerWorker,
    repeats: options.repeats,
    warmup: options.warmup.taskDeps,
    graphs: options.graphs.map((dag) => ({ name: dag.name, deps: dag.taskDeps })),
  });
  const child = spawnSync(python, [SCRIPT], {
    input,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`${SCRIPT} exited ${child.status ?? child.signal}`);
  return { ...DaskFigures.parse(JSON.parse(child.stdout)), interpreter: python };
}
