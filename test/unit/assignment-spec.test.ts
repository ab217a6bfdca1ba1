/** What each aggregation step is sent: presigned URLs for exactly its objects, expiring with the attempt, never the store's keys. */
import { describe, expect, it } from 'vitest';
import { specBuilder } from '../../durable-objects/assignment-spec.ts';
import type { AggregateJobSpec } from '../../durable-objects/aggregate-store.ts';
import { toStoreAccess } from '../../durable-objects/object-stores.ts';
import { type StoreRow } from '../../durable-objects/db/object-stores.ts';
import type { Sql } from '../../durable-objects/db/sql.ts';
import { presignUrl } from '../../durable-objects/storage/presign.ts';
import { assignBatches } from '../../durable-objects/assign-batches.ts';
import {
  Assignment,
  FinalTaskSpec,
  MAX_FRAME_BYTES,
  ReduceTaskSpec,
  jsonBytes,
  objectUrl,
  signedUrls,
  type MapTaskSpec,
} from '../../protocol/index.ts';

const SECRET = 'secret-key-never-sent';
const STORE: StoreRow = {
  id: 'st1',
  name: 'data',
  url: 's3://data',
  bucket: 'data',
  prefix: '',
  endpoint: 'http://127.0.0.1:4568',
  region: 'us-east-1',
  force_path_style: 1,
  access_key_id: 'AKID-EXAMPLE',
  secret_access_key: SECRET,
  session_token: null,
  created_at: 0,
};
const JOB: AggregateJobSpec = {
  source: { store: 'st1', prefix: 'in/', format: 'csv' },
  query: { filter: [], groupBy: ['k'], aggregates: [{ op: 'count' }] },
  partitions: 3,
  output: { store: 'st1', base: 'out/' },
};

/** Just the two reads specBuilder makes: the job's spec and the store. */
const sql = {
  row: (schema: { parse(row: unknown): unknown }, query: string) => {
    const found = query.includes('FROM jobs')
      ? { kind: 'aggregate', spec: JSON.stringify(JOB) }
      : query.includes('object_stores')
        ? STORE
        : null;
    return found === null ? null : schema.parse(found);
  },
} as unknown as Sql;

const NOW = Date.parse('2026-12-07T03:00:00Z');
const build = (spec: unknown, attempt = 1, deadlineAt: number | null = null) =>
  specBuilder(sql, NOW)({ id: 't1', jobId: 'j1', attempt, spec: JSON.stringify(spec), deadlineAt });

const target = (url: string) => {
  const parsed = new URL(url);
  return {
    path: decodeURIComponent(parsed.pathname),
    expires: Number(parsed.searchParams.get('X-Amz-Expires')),
  };
};

describe('aggregation specs', () => {
  it('give a map a GET of its input and a PUT per partition of its attempt', () => {
    const map = build({ step: 'map', input: { key: 'in/a.csv', size: 10 } }, 2) as MapTaskSpec;
    expect(map.source).toEqual({ bucket: 'data', endpoint: 'http://127.0.0.1:4568' });
    expect(target(map.inputUrl).path).toBe('/data/in/a.csv');
    expect(map.outputUrls.map((url) => target(url).path)).toEqual(
      [0, 1, 2].map((p) => `/data/out/map/t1/attempt-2/part-${p}.arrow`),
    );
    expect(JSON.stringify(map)).not.toContain(SECRET);
  });

  it('give a reduce and the final step a GET per input and a PUT of their output, in compact form', () => {
    const inputs = ['out/map/m1/attempt-1/part-0.arrow', 'out/map/m2/attempt-1/part-0.arrow'];
    const reduce = ReduceTaskSpec.parse(build({ step: 'reduce', partition: 0, inputs }));
    expect(reduce.urls.base).toBe('http://127.0.0.1:4568/data/');
    expect(reduce.inputs).toMatchObject({
      prefix: 'out/map/m',
      suffix: '/attempt-1/part-0.arrow',
      keys: ['1', '2'],
    });
    const gets = signedUrls(reduce.urls, reduce.inputs);
    expect([...gets.keys()]).toEqual(inputs);
    expect([...gets.values()].map((url) => target(url).path)).toEqual(
      inputs.map((k) => `/data/${k}`),
    );
    const put = objectUrl(reduce.urls, reduce.outputKey, reduce.outputSignature);
    expect(target(put).path).toBe('/data/out/reduce/t1/attempt-1.arrow');
    const final = FinalTaskSpec.parse(build({ step: 'final', inputs: [reduce.outputKey] }, 3));
    const finalGets = signedUrls(final.urls, final.inputs);
    expect([...finalGets.keys()]).toEqual([reduce.outputKey]);
    expect(target(objectUrl(final.urls, final.outputKey, final.outputSignature)).path).toBe(
      '/data/out/result-j1.attempt-3.arrow',
    );
    expect(JSON.stringify([reduce, final])).not.toContain(SECRET);
  });

  it('rebuild on the agent exactly the URLs the presigner makes', () => {
    const inputs = [
      'out/map/m1/attempt-1/part-0.arrow',
      'out/map/m 2/attempt-1/part-0.arrow',
      'out/map/ü/../x+y=z&é/attempt-12/part-0.arrow',
      'out/map/part-0.arrow',
    ];
    const reduce = ReduceTaskSpec.parse(build({ step: 'reduce', partition: 0, inputs }, 2));
    const direct = (method: 'GET' | 'PUT', key: string) =>
      presignUrl(toStoreAccess(STORE), method, key, 24 * 3600, new Date(NOW));
    const gets = signedUrls(reduce.urls, reduce.inputs);
    expect([...gets]).toEqual(inputs.map((key) => [key, direct('GET', key)]));
    expect(objectUrl(reduce.urls, reduce.outputKey, reduce.outputSignature)).toBe(
      direct('PUT', 'out/reduce/t1/attempt-2.arrow'),
    );
  });

  it('fit a reduce of 8,000 stored partials in one assign frame', () => {
    const maps = Array.from({ length: 8000 }, () => crypto.randomUUID());
    const inputs = maps.map((id) => `out/map/${id}/attempt-1/part-17.arrow`);
    const spec = build({ step: 'reduce', partition: 17, inputs });
    const task = Assignment.parse({
      taskId: crypto.randomUUID(),
      jobId: crypto.randomUUID(),
      attempt: 1,
      spec,
      tenant: null,
    });
    const { batches, oversized } = assignBatches([task]);
    expect(oversized).toEqual([]);
    expect(batches).toHaveLength(1);
    const bytes = jsonBytes(task);
    expect(bytes).toBeLessThan(MAX_FRAME_BYTES);
    // Each input: its UUID, the quotes and comma around it, and 64 hex of signature.
    expect(
      (bytes - jsonBytes(build({ step: 'reduce', partition: 17, inputs: [] }))) / 8000,
    ).toBeLessThan(36 + 3 + 64 + 1);
  });

  it('expire a minute after the attempt’s deadline, else after a day; a retry is signed afresh', () => {
    const part = { step: 'map', input: { key: 'in/a.csv', size: 10 } };
    const timed = build(part, 1, NOW + 300_000) as MapTaskSpec;
    expect(target(timed.inputUrl).expires).toBe(360);
    const untimed = build(part, 1) as MapTaskSpec;
    expect(target(untimed.inputUrl).expires).toBe(24 * 3600);
    const retry = build(part, 2, NOW + 300_000) as MapTaskSpec;
    expect(retry.outputUrls[0]).not.toBe(timed.outputUrls[0]);
    expect(target(retry.outputUrls[0]!).path).toContain('/attempt-2/');
  });
});
