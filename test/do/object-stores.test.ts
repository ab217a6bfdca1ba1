/** Object stores through the real Worker and Scheduler: write-only credentials, clear errors. */
import { describe, expect, it } from 'vitest';
import { api, submitJob } from './helpers.ts';
import type { JobView, ObjectStoreView } from '../../protocol/index.ts';

const SECRET = 'wJalrXUtnFEMI-very-secret-key-0001';
const TOKEN = 'session-token-that-must-not-leak';
/** Nothing listens on port 1: every call to this store fails fast. */
const UNREACHABLE = 'http://127.0.0.1:1';

let n = 0;
const unique = () => `store-${Date.now().toString(36)}-${n++}`;

function register(name: string, over: Record<string, unknown> = {}) {
  return api<{ store: ObjectStoreView; created: boolean }>('POST', '/v1/object-stores', {
    name,
    url: `s3://bucket-${name}/data`,
    endpoint: UNREACHABLE,
    accessKeyId: 'AKIATESTKEY',
    secretAccessKey: SECRET,
    sessionToken: TOKEN,
    ...over,
  });
}

function leaks(body: unknown): boolean {
  const text = JSON.stringify(body);
  return text.includes(SECRET) || text.includes(TOKEN);
}

describe('object stores', () => {
  it('registers a store and never returns its credentials', async () => {
    const name = unique();
    const created = await register(name);
    expect(created.status).toBe(201);
    expect(created.body.store).toMatchObject({
      name,
      bucket: `bucket-${name}`,
      prefix: 'data/',
      endpoint: UNREACHABLE,
      hasCredentials: true,
      forcePathStyle: true,
    });
    const replies = [
      created.body,
      (await api('GET', '/v1/object-stores')).body,
      (await api('GET', `/v1/object-stores/${created.body.store.id}`)).body,
      (await api('GET', `/v1/object-stores/${name}`)).body,
      (await register(name)).body,
      (await api('GET', `/v1/object-stores/${name}/objects`)).body,
    ];
    for (const body of replies) expect(leaks(body)).toBe(false);
  });

  it('is idempotent for the same registration and a conflict for a different one under the name', async () => {
    const name = unique();
    expect((await register(name)).status).toBe(201);
    const again = await register(name);
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const other = await register(name, { url: 's3://another-bucket' });
    expect(other.status).toBe(409);
    expect(leaks(other.body)).toBe(false);
    // A new session token is other settings too: keeping the old one silently would fail later.
    const renewed = await register(name, { sessionToken: `${TOKEN}-renewed` });
    expect(renewed.status).toBe(409);
    expect(leaks(renewed.body)).toBe(false);
  });

  it('rejects bad registrations with clear messages', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'http://bucket' }, /s3:\/\/bucket/],
      [{ url: 's3://b' }, /s3:\/\/bucket/],
      [{ url: 's3://good-bucket', endpoint: 'ftp://x' }, /endpoint/],
      [{ url: 's3://good-bucket', name: 'Bad Name!' }, /name/],
      [{ url: 's3://good-bucket', color: 'red' }, /unknown field.*color/],
    ];
    for (const [body, message] of cases) {
      const reply = await api<{ error: { message: string } }>('POST', '/v1/object-stores', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error.message).toMatch(message);
    }
  });

  it('answers unknown stores with 404 and deletes known ones', async () => {
    expect((await api('GET', '/v1/object-stores/no-such-store')).status).toBe(404);
    expect((await api('DELETE', '/v1/object-stores/no-such-store')).status).toBe(404);
    const name = unique();
    await register(name);
    expect((await api('DELETE', `/v1/object-stores/${name}`)).status).toBe(200);
    expect((await api('GET', `/v1/object-stores/${name}`)).status).toBe(404);
  });

  it('says clearly when a store cannot be reached, without secrets and without hanging', async () => {
    const name = unique();
    await register(name);
    const listing = await api<{ error: { code: string; message: string } }>(
      'GET',
      `/v1/object-stores/${name}/objects?prefix=x/`,
    );
    expect(listing.status).toBe(502);
    expect(listing.body.error.code).toBe('store_unavailable');
    expect(listing.body.error.message).toContain(name);
    expect(leaks(listing.body)).toBe(false);
  });
});

describe('aggregate submissions', () => {
  const aggregate = (store: string) => ({
    kind: 'aggregate',
    source: { store, format: 'parquet' },
    groupBy: ['k'],
    aggregates: [{ op: 'count' }],
  });

  it('rejects an unknown store with 400 naming it', async () => {
    const reply = await api<{ error: { message: string } }>(
      'POST',
      '/v1/jobs',
      aggregate('nowhere'),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/unknown object store "nowhere"/);
  });

  it('fails the job at once with a clear error when its inputs cannot be listed', async () => {
    const name = unique();
    await register(name);
    const job: JobView = await submitJob(aggregate(name));
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/cannot list the inputs/);
    expect(job.error).toContain(name);
    expect(leaks(job)).toBe(false);
    const result = await api<{ error: { code: string } }>('GET', `/v1/jobs/${job.id}/result`);
    expect(result.status).toBe(409);
  });

  it('refuses result reads for jobs that are not aggregations', async () => {
    const echo = await submitJob({ kind: 'echo' });
    expect((await api('GET', `/v1/jobs/${echo.id}/result`)).status).toBe(409);
    expect((await api('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000/result')).status).toBe(
      404,
    );
  });
});
