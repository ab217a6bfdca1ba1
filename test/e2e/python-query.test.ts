/**
 * End to end: `Client.query(sql)` from the Python client (clients/python/tests/query_e2e.py)
 * against a real stack — `wrangler dev`, two agents and the loopback S3 with CSV objects whose
 * local copies the Python test works the answer out from.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { runPythonTests } from '../support/python.ts';

const PREFIX = 'python-query/';

let stack: TestStack;
let data: Datasets;

beforeAll(async () => {
  stack = await startTestStack({ agents: 2, s3: true });
  const store = createObjectStore(stack.s3!.access);
  data = await createDatasets({ store, prefix: PREFIX, files: 2, rowsPerFile: 5_000 });
  store.close();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await data?.cleanup();
});

describe('python client: SQL', () => {
  it('runs Client.query and gets the answer and the refusals right', async () => {
    const { code, output } = await runPythonTests(
      {
        TM_TEST_URL: stack.url,
        TM_TOKEN: stack.adminToken,
        TM_TEST_DATA: `s3://test-bucket/${PREFIX}csv/`,
        TM_TEST_CSV_DIR: join(data.dir, 'csv'),
      },
      'query_e2e.py',
    );
    if (code !== 0) console.error(output);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^Ran 2 tests in /m);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/i);
  }, 300_000);
});
