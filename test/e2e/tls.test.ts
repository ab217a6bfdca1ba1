/**
 * End to end over TLS: `wrangler dev --local-protocol https` with the stack's own CA; agents dial
 * wss with `--ca-file`; the SDK, the `tm` CLI and the Python client reach https with the CA, and
 * each says clearly what is wrong without it, or when http is spoken to the https port.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../cli/local/repo.ts';
import { TmClient } from '../../cli/sdk/client.ts';
import { TmConnectionError } from '../../cli/sdk/errors.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

const TM = join(repoRoot, 'cli', 'bin', 'tm.js');

let stack: TestStack;
let caFile: string;
let home: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tm-tls-home-'));
  // JSON log lines, which the untrusted-certificate test reads.
  stack = await startTestStack({ tls: true, agents: 2, agentArgs: ['--log-format', 'json'] });
  caFile = stack.caFile!;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with an env free of the caller's tm settings. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: home };
  for (const key of ['TM_URL', 'TM_TOKEN', 'TM_CONFIG', 'TM_CA_FILE', 'NODE_EXTRA_CA_CERTS'])
    delete base[key];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...base, ...env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const tm = (args: string[], env?: Record<string, string>) =>
  run(process.execPath, [TM, ...args], env);

/** The http:// URL of the https port. */
const plainUrl = () => stack.url.replace(/^https:/, 'http:');

describe('TLS end to end', () => {
  it('serves https, and agents connect over wss with the CA and run a command job', async () => {
    expect(stack.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const workers = (await stack.client.listWorkers()).filter((w) => w.connected);
    expect(workers).toHaveLength(2);
    for (const agent of stack.agents)
      expect(readFileSync(agent.logFile, 'utf8')).toMatch(/"url":"wss:\/\/127\.0\.0\.1:\d+\//);

    const job = await stack.client.submitJob(
      { kind: 'command', command: 'echo "over tls on $TM_WORKER_ADDRESS"', workers: 'all' },
      30,
    );
    expect(job.state).toBe('succeeded');
    const { entries } = await stack.client.logs({ jobId: job.id });
    const text = entries.map((e) => e.data).join('');
    for (const worker of workers) expect(text).toContain(`over tls on ${worker.address}`);
  });

  it('the tm CLI reaches it with --ca-file, TM_CA_FILE or the config file', async () => {
    const tokenFile = join(home, 'admin-token');
    writeFileSync(tokenFile, `${stack.adminToken}\n`, { mode: 0o600 });
    const listed = await tm([
      '--url',
      stack.url,
      '--token-file',
      tokenFile,
      '--ca-file',
      caFile,
      'workers',
      '--json',
    ]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const { workers } = JSON.parse(listed.stdout) as { workers: { connected: boolean }[] };
    expect(workers.filter((w) => w.connected)).toHaveLength(2);

    const submitted = await tm(['submit', 'command', '--wait', '--', 'echo', 'cli-over-tls'], {
      TM_URL: stack.url,
      TM_TOKEN: stack.adminToken,
      TM_CA_FILE: caFile,
    });
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    expect(submitted.stdout).toMatch(/succeeded/);

    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ url: stack.url, token: stack.adminToken, caFile }));
    const fromFile = await tm(['jobs', '--limit', '1', '--json'], { TM_CONFIG: config });
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout).jobs).toHaveLength(1);
  });

  it('the tm CLI without the CA, or over plain http, says what is wrong (exit 4)', async () => {
    const untrusted = await tm(['--url', stack.url, 'workers']);
    expect(untrusted.code).toBe(4);
    expect(untrusted.stderr).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(untrusted.stderr).toMatch(/certificate is not trusted; pass --ca-file FILE/);

    const plain = await tm(['--url', plainUrl(), '--ca-file', caFile, 'workers']);
    expect(plain.code).toBe(4);
    expect(plain.stderr).toMatch(/closed the connection without answering.*use an https:\/\/ URL/);

    const missing = await tm(['--url', stack.url, '--ca-file', join(home, 'nope.pem'), 'workers']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the CA file .*nope\.pem \(ENOENT\)/);
  });

  it('the SDK over plain http to the https port fails with a connection error', async () => {
    const client = new TmClient(plainUrl());
    const error = await client.health().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TmConnectionError);
  });

  it('the Python client reaches it with ca_file or TM_CA_FILE, and explains failures', async () => {
    const script = `
import sys
sys.path.insert(0, "clients/python")
import TmScheduler as tm
url, ca, plain, token = sys.argv[1:5]
tm.NewSession(url, token=token, ca_file=ca)
print("workers", sum(1 for w in tm.ListWorkers() if w.connected))
job = tm.SubmitJob("echo python-over-tls", workers=1)
print("job", tm.WaitJob(job.id, timeout=60).state)
print("env", tm.Client(url).health()["ok"])
assert tm.Client("localhost:8080").base_url == "http://localhost:8080"
for label, client in (("untrusted", tm.Client(url, ca_file="")), ("plain", tm.Client(plain, ca_file=ca))):
    try:
        client.health()
        print(label, "no error")
    except tm.ConnectionError as error:
        print(label, error)
`;
    const args = [stack.url, caFile, plainUrl(), stack.adminToken];
    const result = await run('python3', ['-c', script, ...args], {
      TM_CA_FILE: caFile,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('workers 2');
    expect(lines).toContain('job succeeded');
    expect(lines).toContain('env True');
    const untrusted = lines.find((l) => l.startsWith('untrusted '));
    expect(untrusted).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    expect(untrusted).toMatch(/not trusted here: pass ca_file= \(or set TM_CA_FILE\)/);
    expect(lines.find((l) => l.startsWith('plain '))).toMatch(
      /closed the connection without answering: if it serves https/,
    );
  });

  it('an agent without the CA says the certificate is not trusted, keeps retrying, never connects', async () => {
    const agent = await stack.addAgent({ trustCa: false });
    const failures = await eventually(
      () => {
        const lines = readFileSync(agent.logFile, 'utf8')
          .split('\n')
          .filter((line) => line.includes('TLS certificate is not trusted'));
        return lines.length >= 3 ? lines : undefined;
      },
      'three untrusted-certificate errors in the agent log',
      30_000,
    );
    const first = JSON.parse(failures[0]!) as { level: string; message: string; code: string };
    expect(first.level).toBe('error');
    expect(first.message).toMatch(/pass --ca-file \(or TM_CA_FILE\) with the CA that signed it/);
    expect(first.code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN/);
    expect(agent.alive()).toBe(true);
    const log = readFileSync(agent.logFile, 'utf8');
    expect(log).toMatch(/reconnecting/);
    expect(log).not.toMatch(/welcomed by the control plane/);
    const worker = (await stack.client.listWorkers()).find((w) => w.address === agent.address);
    expect(worker?.connected).toBe(false);
  });
});
