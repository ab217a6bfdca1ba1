/**
 * End to end: the agent as a user installs it. The tm-agent tarball is packed, installed with
 * `npm install -g --prefix` into a temp dir with no registry (its dependencies are bundled), and
 * run from a temp dir with no checkout on its paths; it joins a real stack and runs a command, a
 * pipeline and an aggregation. TM_TEST_NODE=/path/to/node runs the installed agent on that node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { agentPackageDir } from '../../cli/local/agent-build.ts';
import { startChild, type Child } from '../../cli/local/child.ts';
import { freePort, waitForHttp } from '../../cli/local/ports.ts';
import { repoRoot } from '../../cli/local/repo.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import type {
  CreatedTenantToken,
  LogEntry,
  PipelineSubmission,
  PipelineView,
} from '../../protocol/index.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { GRANT_ALL } from '../support/tenants.ts';
import { eventually } from '../support/wait.ts';

const FILES = 2;
const ROWS_PER_FILE = 5000;
const node = process.env.TM_TEST_NODE ?? process.execPath;

let home: string;
let prefix: string;
let tarball: string;
let stack: TestStack;
let data: Datasets;
let agent: Child;
let address: string;

/** Runs a program with no checkout around it: cwd in `home`, `node` first on PATH. */
function run(command: string, args: string[]): string {
  return execFileSync(command, args, { cwd: home, env: userEnv(), encoding: 'utf8' });
}

/** A user's environment: `node`'s directory first on PATH, a home of its own, no npm config of the repo's. */
function userEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'LANG', 'TMPDIR'];
  const env = Object.fromEntries(
    keep.flatMap((key) => (process.env[key] ? [[key, process.env[key]]] : [])),
  );
  return {
    ...env,
    PATH: [dirname(node), env.PATH].join(delimiter),
    HOME: home,
    // npm's cache stays the machine's: the install needs nothing from it, but a fresh one would be made under home.
    npm_config_cache: join(process.env.HOME ?? home, '.npm'),
  };
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tm-agent-install-'));
  prefix = join(home, 'prefix');
  // `npm pack` runs the package's prepack, which builds it.
  const packed = execFileSync('npm', ['pack', '--pack-destination', home, '--silent'], {
    cwd: agentPackageDir,
    encoding: 'utf8',
  });
  tarball = join(home, packed.trim().split('\n').at(-1)!);
  run('npm', [
    'install',
    '-g',
    '--prefix',
    prefix,
    '--offline',
    '--no-audit',
    '--no-fund',
    tarball,
  ]);

  stack = await startTestStack({ agents: 0, s3: true });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({
    store,
    prefix: 'install/',
    files: FILES,
    rowsPerFile: ROWS_PER_FILE,
  });
  store.close();
  stack.writeScript('bin/upper', '#!/bin/sh\nprintf "%s\\n" "$1" | tr a-z A-Z\n');

  address = `localhost:${await freePort()}`;
  const keyFile = join(home, 'agent.pem');
  const fingerprint = run(join(prefix, 'bin', 'tm-agent'), [
    '--print-fingerprint',
    '--key-file',
    keyFile,
  ]);
  await stack.client.registerWorker({ address, fingerprint: fingerprint.trim() });
  agent = startChild(
    join(prefix, 'bin', 'tm-agent'),
    [
      '--control-plane',
      stack.url,
      '--token-file',
      stack.tokenFile,
      '--address',
      address,
      '--work-dir',
      stack.workDir,
      '--key-file',
      keyFile,
      '--cache-dir',
      join(home, 'cache'),
      '--executor',
      `upper=${join(stack.workDir, 'bin', 'upper')}`,
      '--slots',
      '2',
    ],
    { cwd: home, env: userEnv(), logFile: join(home, 'agent.log') },
  );
  await waitForHttp(`http://${address}/healthz`, 30_000, agent.alive);
  await eventually(async () => {
    const workers = await stack.client.listWorkers();
    return workers.find((w) => w.address === address && w.connected);
  }, 'the installed agent to connect');
}, 600_000);

afterAll(async () => {
  await agent?.stop(2000);
  await stack?.stop();
  await data?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

const installed = () => realpathSync(join(prefix, 'lib', 'node_modules', 'tm-agent'));

describe('the installed tm-agent', () => {
  it('holds the built agent, its kernels and its dependencies, and no TypeScript, tsx or AWS SDK', () => {
    const files = run('tar', ['tzf', tarball]).split('\n').filter(Boolean);
    const own = files.filter((file) => !file.startsWith('package/node_modules/'));
    expect(own.filter((file) => file.endsWith('.ts'))).toEqual([]);
    expect(files).toContain('package/dist/worker-agent/main.js');
    expect(files).toContain('package/dist/worker-agent/map-threads/thread.js');
    expect(files).toContain('package/dist/worker-agent/aggregate/readers/parquet-worker.js');
    const kernels = readdirSync(join(repoRoot, 'worker-agent/aggregate/readers/parquet'))
      .filter((file) => file.endsWith('.wasm'))
      .map((file) => `package/dist/worker-agent/aggregate/readers/parquet/${file}`);
    expect(kernels.length).toBeGreaterThan(0);
    expect(files).toEqual(expect.arrayContaining(kernels));
    expect(files.filter((file) => /node_modules\/(@aws-sdk|typescript|tsx)\//.test(file))).toEqual(
      [],
    );
  });

  it('prints its version, that of the tarball', () => {
    const { version } = JSON.parse(readFileSync(join(agentPackageDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(run(join(prefix, 'bin', 'tm-agent'), ['--version']).trim()).toBe(`tm-agent ${version}`);
  });

  it('resolves its dependencies from its own install, never from the checkout', () => {
    const main = join(installed(), 'dist', 'worker-agent', 'main.js');
    const resolved = JSON.parse(
      run(node, [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const require = createRequire(${JSON.stringify(main)});
         console.log(JSON.stringify(['zod', 'ws', 'apache-arrow', 'parquet-wasm'].map((n) => require.resolve(n))));`,
      ]),
    ) as string[];
    expect(resolved).toHaveLength(4);
    for (const path of resolved) {
      expect(relative(installed(), path)).toMatch(/^node_modules\//);
      expect(path.startsWith(repoRoot)).toBe(false);
    }
    expect(installed().startsWith(repoRoot)).toBe(false);
  });

  it('runs on the node it was given (TM_TEST_NODE, else this one)', () => {
    // The bin's `#!/usr/bin/env node` finds that node first on PATH; sh execs it in place.
    expect(realpathSync(`/proc/${agent.process.pid}/exe`)).toBe(realpathSync(node));
  });

  it('runs a command', async () => {
    const job = await stack.client.submitJob({ kind: 'command', command: 'echo "ran in $PWD"' });
    const entries: LogEntry[] = [];
    let end: string | undefined;
    for await (const event of stack.client.followLogs({ jobId: job.id })) {
      if ('end' in event) end = event.state;
      else entries.push(event);
    }
    expect(end).toBe('succeeded');
    expect(entries.map((entry) => entry.data).join('')).toContain(`ran in ${stack.workDir}`);
    const done = await stack.client.getJob(job.id);
    const [worker] = await stack.client.listWorkers();
    expect(done.tasks?.map((task) => task.workerId)).toEqual([worker?.id]);
  });

  it('streams records between stages through its data port', async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'dataflow',
        stages: [
          { name: 'numbers', kind: 'command', command: 'seq 1 1000' },
          { name: 'count', kind: 'command', command: 'wc -l', streamFrom: ['numbers'] },
        ],
      },
      60,
    );
    expect(job.state, JSON.stringify(job.stages)).toBe('succeeded');
    expect(job.tasks?.find((task) => task.stage?.name === 'count')?.result).toBe('1000');
  });

  it('runs a pipeline step with its executor', async () => {
    const tenant = await api<CreatedTenantToken>(stack.adminToken, 'POST', '/v1/tenants', {
      name: 'installer',
      permissions: GRANT_ALL,
    });
    expect(tenant.status).toBe(201);
    const defined = await api<PipelineView>(
      tenant.body.token,
      'POST',
      '/api/applications/install/pipelines',
      { name: 'shout', pipeline: [{ executor: 'upper', commands: ['upper {{word}}'] }] },
    );
    expect(defined.status).toBe(201);
    const submitted = await api<PipelineSubmission>(
      tenant.body.token,
      'POST',
      '/api/applications/install/pipelines/shout?wait=60',
      { word: 'installed' },
    );
    expect(submitted.status).toBe(202);
    expect(submitted.body.tasks[0]).toMatchObject({ state: 'succeeded', result: 'INSTALLED\n' });
  });

  it('runs an aggregation over Parquet on its map threads', async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'aggregate',
        source: { store: 'test-bucket', prefix: `${data.prefix}parquet/`, format: 'parquet' },
        groupBy: ['flag'],
        aggregates: [{ op: 'count' }],
      },
      120,
    );
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ rowsRead: FILES * ROWS_PER_FILE });
    const page = await stack.client.result(job.id, 0, 100);
    const total = page.rows.reduce((sum, row) => sum + Number(row[page.columns[1]!.name]), 0);
    expect(total).toBe(FILES * ROWS_PER_FILE);
  });
});

async function api<T>(bearer: string, method: string, path: string, body: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}
