/**
 * End to end: dataflow jobs from the Python client (clients/python/tests/dataflow_e2e.py) against
 * a real stack — `wrangler dev` and two agents — a diamond through `submit_dataflow`, another
 * through a TOML job file, and the API's refusals as the client's errors.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../cli/local/repo.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

const AGENTS = 2;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: AGENTS, slots: 2 });
}, 120_000);
afterAll(async () => stack?.stop());

/** Runs dataflow_e2e.py with python3 and returns its exit code and everything it printed. */
function runPython(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'python3',
      [
        '-m',
        'unittest',
        'discover',
        '-v',
        '-s',
        join('clients', 'python', 'tests'),
        '-p',
        'dataflow_e2e.py',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('python client: dataflow jobs', () => {
  it('runs diamonds submitted from Python and from a TOML job file', async () => {
    const { code, output } = await runPython({
      TM_TEST_URL: stack.url,
      TM_TOKEN: stack.adminToken,
    });
    if (code !== 0) console.error(output);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Ran 4 tests in /m);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/i);
  }, 300_000);
});
