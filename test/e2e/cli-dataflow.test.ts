/**
 * End to end: `tm submit-job` runs examples/dataflow/batch-example.toml (a diamond of command
 * stages) on a real stack reached through --master-addr, `tm job` draws its stages, `tm logs
 * --stage` prints one stage's output, and a bad job file is refused naming its line and key.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../cli/local/repo.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { runTmProcess } from '../support/tm-process.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const EXAMPLE = join(repoRoot, 'examples', 'dataflow', 'batch-example.toml');

let stack: TestStack;
let home: string;

/** `tm --master-addr 127.0.0.1:PORT ARGS…`, with TM_URL unset so only the flag says where. */
const tm = (args: string[]) =>
  runTmProcess(
    { url: stack.url, token: stack.adminToken, configHome: home },
    ['--master-addr', new URL(stack.url).host, ...args],
    { env: { TM_URL: undefined } },
  );

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tm-cli-dataflow-'));
  stack = await startTestStack({ agents: 2, slots: 2 });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('tm submit-job', () => {
  it('runs the example job file to its end and draws its stages, each succeeded', async () => {
    const job = join(home, 'job.toml');
    writeFileSync(job, readFileSync(EXAMPLE, 'utf8'));
    const run = await tm(['submit-job', '--config', job, '--wait']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const id = UUID.exec(run.stdout)?.[0];
    expect(id, run.stdout).toBeDefined();
    expect(run.stdout).toContain(`job ${id} succeeded`);
    for (const name of ['split', 'count', 'sum', 'report'])
      expect(run.stdout).toMatch(new RegExp(`${name} +succeeded`));

    const shown = await tm(['job', id!]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('stages (4):');
    expect(shown.stdout).toMatch(/1 ── split +succeeded +3\/3/);
    expect(shown.stdout).toMatch(/2 ┬─ count +succeeded +1\/1 .*<- split/);
    expect(shown.stdout).toMatch(/└─ sum +succeeded +1\/1 .*<- split/);
    expect(shown.stdout).toMatch(/3 ── report +succeeded +1\/1 .*<- count, sum/);
    expect(shown.stdout).toMatch(/split#2/);

    const logs = await tm(['logs', id!, '--stage', 'report']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.trim()).toBe('6 over 3 parts');
    const one = await tm(['logs', id!, '--stage', 'split', '--instance', '1', '--follow']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.trim()).toBe('2');
    const unknown = await tm(['logs', id!, '--stage', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('its stages: split, count, sum, report');
  });

  it('refuses a bad job file naming the file, the line and the key, without submitting it', async () => {
    const bad = join(home, 'bad.toml');
    writeFileSync(
      bad,
      readFileSync(EXAMPLE, 'utf8').replace(
        `command = 's=0; for n in $TM_INPUT_split; do s=$((s + n)); done; echo "$s"'`,
        'commnd = "echo typo"',
      ),
    );
    const lineOf = (text: string) => readFileSync(bad, 'utf8').split('\n').indexOf(text) + 1;
    const before = (await stack.client.listJobs()).length;
    const run = await tm(['submit-job', '--config', bad]);
    expect(run.code).toBe(2);
    const sumHeader = lineOf('name = "sum"') - 1;
    expect(run.stderr).toContain(
      `${bad}:${lineOf('commnd = "echo typo"')}: stages[2].commnd: unknown key`,
    );
    expect(run.stderr).toContain(
      `${bad}:${sumHeader}: stages[2].command: missing (expected string or array)`,
    );
    expect((await stack.client.listJobs()).length).toBe(before);

    writeFileSync(bad, 'name = "x"\n[[stages]\n');
    const syntax = await tm(['submit-job', '--config', bad]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(new RegExp(`${bad}:2:\\d+: TOML syntax error`));
  });
});
