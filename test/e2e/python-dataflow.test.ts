/**
 * End to end: dataflow jobs from the Python client (clients/python/tests/dataflow_e2e.py) against
 * a real stack — `wrangler dev` and two agents — a diamond through `submit_dataflow`, another
 * through a TOML job file, and the API's refusals as the client's errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { runPythonTests } from '../support/python.ts';

const AGENTS = 2;

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: AGENTS, slots: 2 });
}, 120_000);
afterAll(async () => stack?.stop());

describe('python client: dataflow jobs', () => {
  it('runs diamonds submitted from Python and from a TOML job file', async () => {
    const { code, output } = await runPythonTests(
      { TM_TEST_URL: stack.url, TM_TOKEN: stack.adminToken },
      'dataflow_e2e.py',
    );
    if (code !== 0) console.error(output);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Ran 4 tests in /m);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/i);
  }, 300_000);
});
