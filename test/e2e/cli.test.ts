/** End to end: `tm` as a child process against a real stack: output, --json and exit codes of each command. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { LOCAL_S3_CREDENTIALS } from '../../cli/local/s3-server.ts';
import { freePort } from '../../cli/local/ports.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, duckdbRows, type Datasets } from '../support/datasets.ts';
import { TM_BIN, runProcess, runTmProcess, type RunOptions } from '../support/tm-process.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const ESC = '\x1b';

let stack: TestStack;
let data: Datasets;
let home: string;

/** The stack as the tm processes of this file see it: its URL, the admin token, a config dir of our own. */
const target = () => ({ url: stack.url, token: stack.adminToken, configHome: home });
const run = (command: string, args: string[], options: RunOptions = {}) =>
  runProcess(target(), command, args, options);
const tm = (args: string[], options: RunOptions = {}) => runTmProcess(target(), args, options);

/** Runs `fn` over `items`, three at a time (the machine is shared), pairing each with its result. */
async function inParallel<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<[T, R][]> {
  const out: [T, R][] = [];
  for (let i = 0; i < items.length; i += 3) {
    const batch = items.slice(i, i + 3);
    const results = await Promise.all(batch.map(fn));
    batch.forEach((item, j) => out.push([item, results[j]!]));
  }
  return out;
}

/** The job id in `submitted job <id>`. */
const jobIdIn = (text: string) => UUID.exec(text)?.[0] ?? '';

const AGGREGATE = [
  'submit',
  'aggregate',
  '--store',
  'test-bucket',
  '--prefix',
  'cli/csv/',
  '--format',
  'csv',
  '--group-by',
  'category',
  '--agg',
  'count(*)',
  '--agg',
  'sum(n) as total',
  '--filter',
  'n>=5',
  '--order-by',
  'total desc',
];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tm-cli-home-'));
  stack = await startTestStack({ agents: 2, s3: true });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: 'cli/', files: 3, rowsPerFile: 20_000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('tm: usage, help and connection errors', () => {
  it('prints help for tm and every command (exit 0), and exits 2 on usage errors', async () => {
    const help = await tm(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['workers', 'register-worker', 'submit aggregate', 'result', 'logs'])
      expect(help.stdout).toContain(name);
    expect(help.stdout).toContain('exit codes');
    const helps: string[][] = [];
    for (const command of [
      ['workers'],
      ['register-worker'],
      ['deregister-worker'],
      ['object-stores'],
      ['object-stores', 'add'],
      ['submit', 'command'],
      ['submit', 'aggregate'],
      ['jobs'],
      ['job'],
      ['logs'],
      ['cancel'],
      ['result'],
      ['up'],
      ['demo'],
    ]) {
      helps.push(command);
    }
    for (const [command, r] of await inParallel(helps, (command) => tm([...command, '--help']))) {
      expect(r.code, command.join(' ')).toBe(0);
      expect(r.stdout.startsWith(`usage: tm ${command.join(' ')}`)).toBe(true);
    }
    const usage: string[][] = [
      [],
      ['nope'],
      ['jobs', '--bogus'],
      ['jobs', '--state', 'sleeping'],
      ['jobs', '--kind', 'cron'],
      ['job'],
      ['submit'],
      ['submit', 'command', '--wait'],
      ['submit', 'command', '--retries', 'x', '--', 'true'],
      [...AGGREGATE, '--agg', 'bogus(x)'],
      ['submit', 'aggregate', '--store', 'test-bucket', '--format', 'csv'],
      ['result', randomUUID(), '--format', 'xml'],
      ['up', '--log-format', 'yaml'],
    ];
    for (const [args, r] of await inParallel(usage, (args) => tm(args))) {
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.length).toBeGreaterThan(0);
    }
  });

  it('exits 4 with a hint when the control plane cannot be reached', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await tm(['workers', '--url', closed]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`cannot reach the control plane at ${closed}`);
    expect(r.stderr).toMatch(/hint: .*tm up.*--url/);
  });

  it('takes the URL from --url, then TM_URL, then the config file', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const file = join(home, 'config.json');
    writeFileSync(file, JSON.stringify({ url: stack.url }));
    expect((await tm(['workers'], { env: { TM_URL: undefined, TM_CONFIG: file } })).code).toBe(0);
    expect((await tm(['workers'], { env: { TM_URL: closed, TM_CONFIG: file } })).code).toBe(4);
    expect((await tm(['workers', '--url', stack.url], { env: { TM_URL: closed } })).code).toBe(0);
    const fromFile = await tm(['workers'], {
      env: { TM_URL: undefined, TM_CONFIG: file },
    });
    expect(fromFile.stdout).toContain('ADDRESS');
    writeFileSync(file, JSON.stringify({ url: closed }));
    const bad = await tm(['workers'], { env: { TM_URL: undefined, TM_CONFIG: file } });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain(file);
  });
});

describe('tm: workers and object stores', () => {
  it('lists workers as a table fitted to the width, and as JSON', async () => {
    const table = await tm(['workers']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+ADDRESS\s+STATE/);
    for (const agent of stack.agents) expect(table.stdout).toContain(agent.address);
    expect(table.stdout).not.toContain(ESC);
    const narrow = await tm(['workers'], { env: { COLUMNS: '60' } });
    const lines = narrow.stdout.trimEnd().split('\n');
    expect(lines.every((line) => [...line].length <= 60)).toBe(true);
    expect(narrow.stdout).toContain('…');
    const json = JSON.parse((await tm(['workers', '--json'])).stdout);
    expect(json.workers).toHaveLength(2);
    expect(json.workers.every((w: { connected: boolean }) => w.connected)).toBe(true);
  });

  it('registers and deregisters a worker; an unknown id exits 3', async () => {
    const address = `localhost:${await freePort()}`;
    const registered = await tm(['register-worker', address, '--slots', '2', '--label', 'zone=a']);
    expect(registered.code).toBe(0);
    expect(registered.stdout).toContain(`registered worker`);
    expect(registered.stdout).toContain('join token (shown once)');
    // The hint starts the agent with the token in a file, never on its command line.
    expect(registered.stdout).toContain(`tm-agent --control-plane ${stack.url} --token-file `);
    expect(registered.stdout).not.toMatch(/--token |npx/);
    const id = jobIdIn(registered.stdout);
    const again = JSON.parse((await tm(['register-worker', address, '--json'])).stdout);
    expect(again).toMatchObject({
      created: false,
      worker: { id, slots: 2, labels: { zone: 'a' } },
    });
    const gone = await tm(['deregister-worker', id, '--force']);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain(id);
    expect((await tm(['deregister-worker', randomUUID()])).code).toBe(3);
    expect((await tm(['register-worker', 'no-port'])).code).toBe(2);
  });

  it('adds, lists and removes object stores, with the secret from stdin', async () => {
    const list = await tm(['object-stores']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('test-bucket');
    const secret = LOCAL_S3_CREDENTIALS.secretAccessKey;
    const added = await tm(
      [
        'object-stores',
        'add',
        's3://test-bucket/other',
        '--name',
        'other',
        '--endpoint',
        stack.s3!.endpoint,
        '--region',
        'us-east-1',
        '--access-key-id',
        LOCAL_S3_CREDENTIALS.accessKeyId,
        '--secret-access-key-stdin',
        '--force-path-style',
      ],
      { input: `${secret}\n` },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('registered object store other');
    const json = await tm(['object-stores', '--json']);
    const other = JSON.parse(json.stdout).objectStores.find(
      (s: { name: string }) => s.name === 'other',
    );
    expect(other).toMatchObject({ url: 's3://test-bucket/other', hasCredentials: true });
    expect(json.stdout + added.stdout + added.stderr).not.toContain(secret);
    expect((await tm(['object-stores', 'remove', 'other'])).code).toBe(0);
    expect((await tm(['object-stores', 'remove', 'other'])).code).toBe(3);
    const noSecret = await tm(
      ['object-stores', 'add', 's3://test-bucket', '--access-key-id', 'x'],
      {
        env: { AWS_SECRET_ACCESS_KEY: undefined },
      },
    );
    expect(noSecret.code).toBe(2);
  });
});

describe('tm: command jobs', () => {
  it('submits a command on all workers, waits, and shows jobs and logs', async () => {
    const submitted = await tm([
      'submit',
      'command',
      '--workers',
      'all',
      '--env',
      'COUNT=3',
      '--env',
      'STEP_SECONDS=0.1',
      '--wait',
      '--',
      'bash',
      'worker/scripts/count.sh',
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toMatch(/job \S+ succeeded/);
    expect(submitted.stdout).not.toContain(ESC);
    expect(submitted.stdout).not.toContain('\r');
    const id = jobIdIn(submitted.stdout);

    const logs = await tm(['logs', id]);
    expect(logs.code).toBe(0);
    expect(logs.stdout.match(/step 1 of 3/g)).toHaveLength(2);
    expect(logs.stderr).toContain('done');
    const followed = await tm(['logs', id, '--follow']);
    expect(followed.code).toBe(0);
    expect(followed.stdout.match(/step 3 of 3/g)).toHaveLength(2);
    const ndjson = (await tm(['logs', id, '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ndjson.length).toBeGreaterThanOrEqual(2);

    const view = JSON.parse((await tm(['job', id, '--json'])).stdout);
    expect(view).toMatchObject({ id, state: 'succeeded', kind: 'command' });
    expect(view.tasks).toHaveLength(2);
    const taskLogs = await tm(['logs', view.tasks[0].id, '--task']);
    expect(taskLogs.stdout.match(/step 1 of 3/g)).toHaveLength(1);

    const detail = await tm(['job', id]);
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(/state\s+succeeded/);
    expect(detail.stdout).toContain(view.tasks[0].id);
    const jobs = await tm(['jobs', '--state', 'succeeded']);
    expect(jobs.stdout).toContain(id);
    const all = JSON.parse((await tm(['jobs', '--json'])).stdout);
    expect(all.jobs.map((j: { id: string }) => j.id)).toContain(id);
    expect(
      JSON.parse((await tm(['jobs', '--state', 'failed', '--json'])).stdout).jobs,
    ).not.toContainEqual(expect.objectContaining({ id }));
    // Kind and creation-time filters: the job is a command, created within the last hour.
    const listed = async (...args: string[]) =>
      JSON.parse((await tm(['jobs', ...args, '--json'])).stdout).jobs.map(
        (j: { id: string }) => j.id,
      );
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    expect(await listed('--kind', 'command', '--since', hourAgo)).toContain(id);
    expect(await listed('--kind', 'echo')).not.toContain(id);
    expect(await listed('--until', hourAgo)).not.toContain(id);
    const badTime = await tm(['jobs', '--since', 'yesterday']);
    expect(badTime.code).not.toBe(0);
    expect(badTime.stderr).toMatch(/since/);
  });

  it('pages tasks, and reads a result larger than a view shows', async () => {
    const payload = 'x'.repeat(70 * 1024);
    const job = await stack.client.submitJob({ kind: 'echo', payload, count: 5 }, 30);
    expect(job.state).toBe('succeeded');
    const first = await tm(['tasks', '--job', job.id, '--limit', '2']);
    expect(first.code, first.stderr).toBe(0);
    const more = first.stdout.match(/^more: tm tasks --job \S+ --limit 2 --cursor (\S+)$/m);
    expect(more).not.toBeNull();
    const second = await tm(['tasks', '--job', job.id, '--limit', '2', '--cursor', more![1]!]);
    expect(second.stdout).toContain(job.tasks![2]!.id);
    expect(second.stdout).not.toContain(job.tasks![0]!.id);
    const all = (await tm(['tasks', '--job', job.id, '--all', '--limit', '2', '--json'])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; resultOmitted: boolean });
    expect(all.map((task) => task.index)).toEqual([0, 1, 2, 3, 4]);
    expect(all.every((task) => task.resultOmitted)).toBe(true);

    const shown = await tm(['task', job.tasks![0]!.id]);
    expect(shown.stdout).toContain(`result: ${payload.length + 2} bytes, larger than a view shows`);
    const whole = await tm(['task', job.tasks![0]!.id, '--result', '--json']);
    expect(JSON.parse(whole.stdout)).toBe(payload);
    const bad = await tm(['tasks', '--cursor', 'not-a-cursor']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cursor is not one this list gave/);
  });

  it('exits 1 when the job fails, and 3 for an unknown job', async () => {
    const failed = await tm([
      'submit',
      'command',
      '--retries',
      '0',
      '--wait',
      '--',
      'sh',
      '-c',
      'exit 3',
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/job \S+ failed/);
    expect((await tm(['job', randomUUID()])).code).toBe(3);
    expect((await tm(['job', 'not-a-job'])).code).toBe(3);
    expect((await tm(['logs', randomUUID(), '--task'])).code).toBe(3);
    const missing = await tm(['result', randomUUID()]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('not_found');
  });

  it('cancels a running job: cancel exits 0, job --wait exits 1, a second cancel exits 1', async () => {
    const submitted = JSON.parse(
      (await tm(['submit', 'command', '--json', '--', 'sleep', '30'])).stdout,
    );
    expect(submitted.id).toMatch(UUID);
    const cancelled = await tm(['cancel', submitted.id]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('cancelled');
    const waited = await tm(['job', submitted.id, '--wait']);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(/state\s+cancelled/);
    expect((await tm(['cancel', submitted.id])).code).toBe(1);
  });
});

describe('tm: aggregations', () => {
  it('runs a group-by; the result as table, JSON, CSV and Arrow agree with DuckDB', async () => {
    const submitted = await tm([...AGGREGATE, '--wait']);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).not.toContain(ESC);
    expect(submitted.stdout).not.toContain('\r');
    expect(submitted.stdout).toMatch(/category\s+count\(\*\)\s+total/);
    const id = jobIdIn(submitted.stdout);

    const view = JSON.parse((await tm(['job', id, '--json'])).stdout);
    expect(view.progress).toMatchObject({ phase: 'done', rowsRead: data.totalRows });

    const json = JSON.parse((await tm(['result', id, '--format', 'json'])).stdout);
    expect(json.columns.map((c: { name: string }) => c.name)).toEqual([
      'category',
      'count(*)',
      'total',
    ]);
    expect(JSON.parse((await tm(['result', id, '--json'])).stdout)).toEqual(json);
    const csv = (await tm(['result', id, '--format', 'csv'])).stdout;
    const [header, ...lines] = csv.trimEnd().split('\r\n');
    expect(header).toBe('category,count(*),total');
    expect(lines.map((line) => line.split(','))).toEqual(
      json.rows.map((row: Record<string, unknown>) =>
        ['category', 'count(*)', 'total'].map((c) => (row[c] === null ? '' : String(row[c]))),
      ),
    );
    const totals = json.rows.map((r: { total: number }) => Number(r.total));
    expect(totals).toEqual([...totals].sort((a, b) => b - a));

    const oracle = await duckdbRows(
      `SELECT category, count(*), sum(n) FROM read_csv('${data.glob('csv')}') WHERE n >= 5 GROUP BY category`,
    );
    const norm = (rows: Record<string, unknown>[]) =>
      rows.map((row) => Object.values(row).map(String).join('|')).sort();
    expect(norm(json.rows)).toEqual(norm(oracle));

    const table = await tm(['result', id]);
    expect(table.stdout.trim().split('\n')).toHaveLength(json.rows.length + 2);

    const file = join(home, 'result.arrow');
    expect((await tm(['result', id, '--format', 'arrow', '--out', file])).code).toBe(0);
    const fromFile = tableFromIPC(readFileSync(file));
    expect(fromFile.numRows).toBe(json.rows.length);
    const piped = await tm(['result', id, '--format', 'arrow']);
    expect(tableFromIPC(piped.bytes).numRows).toBe(json.rows.length);

    const viaJson = JSON.parse((await tm([...AGGREGATE, '--wait', '--json'])).stdout);
    expect(viaJson).toMatchObject({ state: 'succeeded', kind: 'aggregate' });
  });

  it('draws the progress bar on a terminal (under script)', async () => {
    const quoted = [TM_BIN, ...AGGREGATE, '--wait'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
    const r = await run('script', [
      '-qfec',
      `${process.execPath} ${quoted.join(' ')}`,
      '/dev/null',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('\r');
    expect(r.stdout).toContain(`${ESC}[K`);
    expect(r.stdout).toMatch(/\[[█░]{10,}\]\s+\d+%/);
    expect(r.stdout).toContain('rows/s');
    expect(r.stdout).toContain('ETA');
    expect(r.stdout).toMatch(/100%/);
    expect(r.stdout).toMatch(/job \S+ succeeded/);
  });
});
