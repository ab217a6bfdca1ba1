/** End to end: `tm`'s tenant and pipeline commands as child processes against a real stack. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { runTmProcess } from '../support/tm-process.ts';
import { eventually } from '../support/wait.ts';

const TENANT_TOKEN = /tmt_[A-Za-z0-9_-]+/;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const APP = 'letters';
/** A pipeline of one step run by the stand-in executor `shout`. */
const SHOUT_PIPELINE = {
  name: 'shout',
  pipeline: [{ executor: 'shout', commands: ['shout {{word}}'] }],
};

let stack: TestStack;
let configHome: string;

/** `tm ARGS…` as the admin, or with `token`. */
const tm = (args: string[], options: { token?: string; input?: string } = {}) =>
  runTmProcess({ url: stack.url, token: options.token ?? stack.adminToken, configHome }, args, {
    input: options.input,
  });

/** Makes a tenant through `tm`, granted the shout executor, and returns the token it printed. */
async function createTenant(name: string): Promise<string> {
  const made = await tm(['tenant', 'create', name, '--executors', 'shout']);
  expect(made.code, made.stderr).toBe(0);
  const token = TENANT_TOKEN.exec(made.stdout)?.[0];
  if (!token) throw new Error(`no token in: ${made.stdout}`);
  return token;
}

beforeAll(async () => {
  configHome = mkdtempSync(join(tmpdir(), 'tm-cli-tenants-home-'));
  stack = await startTestStack({ agents: 0 });
  stack.writeScript('bin/shout', '#!/bin/sh\nprintf "%s!\\n" "$1" | tr a-z A-Z\n');
  const agent = await stack.addAgent({
    args: ['--executor', `shout=${join(stack.workDir, 'bin', 'shout')}`],
  });
  await eventually(async () => {
    const workers = await stack.client.listWorkers('ready');
    return workers.find((w) => w.address === agent.address && w.connected);
  }, 'the shout agent to be ready');
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (configHome) rmSync(configHome, { recursive: true, force: true });
});

describe('tm tenants', () => {
  it('creates a tenant whose printed token works, and never shows it again', async () => {
    const made = await tm(['tenant', 'create', 'acme', '--weight', '3']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain('made tenant acme');
    expect(made.stdout).toContain('will not be shown again');
    const token = TENANT_TOKEN.exec(made.stdout)![0];

    const who = await tm(['whoami'], { token });
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toMatch(/^tenant acme \(/);
    expect((await tm(['whoami'])).stdout.trim()).toBe('admin');

    const list = await tm(['tenants']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^acme\s+3\s+1\s/m);
    const json = await tm(['tenants', '--json']);
    expect(JSON.parse(json.stdout).tenants).toContainEqual(
      expect.objectContaining({ name: 'acme', weight: 3 }),
    );
    expect(list.stdout + json.stdout).not.toContain(token);
  });

  it('rotates, revokes and reweighs', async () => {
    const first = await createTenant('rotor');
    const rotated = await tm(['tenant', 'token', 'rotor']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const second = TENANT_TOKEN.exec(rotated.stdout)![0];
    expect(second).not.toBe(first);
    expect(rotated.stdout).toContain('tm tenant revoke rotor TOKEN_ID');

    const tenant = JSON.parse((await tm(['tenants', '--json'])).stdout).tenants.find(
      (t: { name: string }) => t.name === 'rotor',
    ) as { tokens: { id: string; lastUsedAt: string | null }[] };
    const [firstId] = tenant.tokens.map((t) => t.id);
    const revoked = await tm(['tenant', 'revoke', 'rotor', firstId!]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain('1 token(s) left');
    expect((await tm(['whoami'], { token: first })).code).toBe(1);
    expect((await tm(['whoami'], { token: second })).stdout).toContain('tenant rotor');

    const weighed = await tm(['tenant', 'weight', 'rotor', '9']);
    expect(weighed.stdout).toContain('tenant rotor now has weight 9');
    expect((await tm(['tenant', 'weight', 'rotor', '0'])).code).toBe(2);
    expect((await tm(['tenant', 'token', 'nobody'])).code).toBe(3);
  });

  it('grants and takes back permissions with tm tenant set, which a submit then obeys', async () => {
    const token = await createTenant('granted');
    const set = await tm(['tenant', 'set', 'granted', '--executors', '', '--max-queued', '10']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('executors:          none');
    expect(set.stdout).toContain('queue quota:        10');
    const put = await tm(['pipeline', 'put', APP, '-'], {
      token,
      input: JSON.stringify(SHOUT_PIPELINE),
    });
    expect(put.code).toBe(1);
    expect(put.stderr).toContain('names executor shout, which this tenant may not use');
    const command = await tm(['submit', 'command', '--', 'true'], { token });
    expect(command.stderr).toContain('may not submit command jobs');
    expect((await tm(['tenant', 'set', 'granted'])).code).toBe(2);
  });

  it('refuses the cluster commands to a tenant token: exit 1, forbidden', async () => {
    const token = await createTenant('outsider');
    const workers = await tm(['workers'], { token });
    expect(workers.code).toBe(1);
    expect(workers.stderr).toContain('forbidden, HTTP 403');
    expect(workers.stderr).not.toContain(token);
  });
});

describe('tm pipeline', () => {
  it('puts a pipeline, submits with --wait and shows the task’s step output and result', async () => {
    const token = await createTenant('shouters');
    const put = await tm(['pipeline', 'put', APP, '-'], {
      token,
      input: JSON.stringify(SHOUT_PIPELINE),
    });
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout).toContain(`pipeline ${APP}/shout is at version 1`);
    const shown = await tm(['pipeline', 'show', APP, 'shout'], { token });
    expect(shown.stdout).toMatch(/^shout\s+shout\s+shout \{\{word\}\}$/m);

    const submitted = await tm(['pipeline', 'submit', APP, 'shout', 'word=hello', '--wait', '60'], {
      token,
    });
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toMatch(/succeeded\s+HELLO!/);
    const taskId = UUID.exec(submitted.stdout.split('\n').slice(2).join('\n'))![0];

    const task = await tm(['pipeline', 'task', APP, 'shout', taskId], { token });
    expect(task.code, task.stderr).toBe(0);
    expect(task.stdout).toMatch(/^shout\s+shout\s+succeeded\s+0\s+\S+\s+HELLO!↵$/m);
    expect(task.stdout).toMatch(/result:\nHELLO!\n$/);

    // The admin reads the same pipeline and task by naming the tenant, and is told to without it.
    const { id } = await stack.client.getTenant('shouters');
    const theirs = await tm(['pipeline', 'show', APP, 'shout'], { token });
    const admins = await tm(['pipeline', 'show', APP, 'shout', '--tenant', id]);
    expect(admins.code, admins.stderr).toBe(0);
    expect(admins.stdout).toBe(theirs.stdout);
    const adminTask = await tm(['pipeline', 'task', APP, 'shout', taskId, '--tenant', id]);
    expect(adminTask.stdout).toBe(task.stdout);
    const unnamed = await tm(['pipeline', 'show', APP, 'shout']);
    expect(unnamed.code).not.toBe(0);
    expect(unnamed.stderr).toContain('?tenant=ID');
  });

  it('submits a batch from --data and says which tasks ended how', async () => {
    const token = await createTenant('batchers');
    const putAgain = await tm(['pipeline', 'put', APP, '-'], {
      token,
      input: JSON.stringify(SHOUT_PIPELINE),
    });
    expect(putAgain.code, putAgain.stderr).toBe(0);
    const batch = await tm(['pipeline', 'submit', APP, 'shout', '--data', '-', '--wait', '60'], {
      token,
      input: JSON.stringify([{ word: 'a' }, { word: 'b' }]),
    });
    expect(batch.code, batch.stderr).toBe(0);
    expect(batch.stdout).toContain('submitted 2 tasks');
    expect(batch.stdout).toMatch(/0\s+succeeded\s+A!/);
    expect(batch.stdout).toMatch(/1\s+succeeded\s+B!/);
  });

  it('exits 3 for an unknown pipeline and 2 for data a command lacks', async () => {
    const token = await createTenant('strangers');
    const unknown = await tm(['pipeline', 'show', APP, 'nope'], { token });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('HTTP 404');
    expect((await tm(['pipeline', 'submit', APP, 'nope', 'word=x'], { token })).code).toBe(3);

    await tm(['pipeline', 'put', APP, '-'], { token, input: JSON.stringify(SHOUT_PIPELINE) });
    const missing = await tm(['pipeline', 'submit', APP, 'shout', 'other=x'], { token });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('variable "word" is missing');
  });
});
