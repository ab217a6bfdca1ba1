/** GET /v1/openapi.json: it lists the app's real routes, is well formed, and is generated. */
import { afterEach, describe, expect, it } from 'vitest';
import { SELF } from 'cloudflare:test';
import { z } from 'zod';
import { app } from '../../src/app.ts';
import {
  COMPONENTS,
  buildOpenApiDocument,
  conversion,
  type Io,
} from '../../src/openapi/document.ts';
import {
  API_ROUTES,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  type ApiRoute,
} from '../../protocol/openapi.ts';
import type { JobView } from '../../protocol/index.ts';
import {
  api,
  assignmentOf,
  cleanUp,
  complete,
  joinAgent,
  submitJob,
  uniqueAddress,
  ADMIN,
  conforms,
} from './helpers.ts';

type Json = Record<string, unknown>;
type Operation = {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: Json }[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: Json }> }>;
};
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

const doc = buildOpenApiDocument() as Doc;
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ method, path, op })),
);

/** Every `$ref` in a value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string' ? [item] : refs(item),
  );
}

/** Follows a local JSON pointer (`#/a/b`) in the document. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/**
 * A document schema as one standalone JSON Schema: named components are inlined, and the
 * components hoisted from `$defs` (named `<owner>.<def>`) go back into `$defs`.
 */
function standalone(schema: Json): Json {
  const defs: Record<string, unknown> = {};
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const ref = (value as Json).$ref;
    if (typeof ref === 'string' && ref.startsWith(COMPONENTS)) {
      const name = ref.slice(COMPONENTS.length);
      if (!name.includes('.')) return walk(doc.components.schemas[name]);
      if (!(name in defs)) {
        defs[name] = null;
        defs[name] = walk(doc.components.schemas[name]);
      }
      return { $ref: `#/$defs/${name}` };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  };
  const body = walk(schema) as Json;
  return Object.keys(defs).length > 0 ? { ...body, $defs: defs } : body;
}

/** Renames `$defs` to d0, d1… in order of first use, so two conversions compare by shape. */
function canonical(schema: Json): Json {
  const { $schema: _, $defs = {}, ...body } = schema as Json & { $defs?: Json };
  const names = new Map<string, string>();
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k !== '$ref' || typeof v !== 'string' || !v.startsWith('#/$defs/')) return [k, walk(v)];
        const def = v.slice('#/$defs/'.length);
        if (!names.has(def)) names.set(def, `d${names.size}`);
        return [k, `#/$defs/${names.get(def)}`];
      }),
    );
  };
  const out = walk(body) as Json;
  const renamed: Json = {};
  for (let i = 0; i < names.size; i++) {
    const def = [...names].find(([, name]) => name === `d${i}`)?.[0] ?? '';
    renamed[`d${i}`] = walk(($defs as Json)[def]);
  }
  return names.size > 0 ? { ...out, $defs: renamed } : out;
}

const converted = (schema: z.ZodType, io: Io) =>
  canonical(z.toJSONSchema(schema, conversion(io)) as Json);

describe('the route table', () => {
  it('lists exactly the routes the Hono app has, the WebSocket and the document included', () => {
    // Every method route of the app: the only `ALL` entries are middleware (the request counter,
    // auth, body limit, and the guards of whole routers: admin-only, metrics).
    expect(new Set(app.routes.filter((r) => r.method === 'ALL').map((r) => r.path))).toEqual(
      new Set([
        '/*',
        '/metrics/*',
        '/v1/*',
        '/api/*',
        '/v1/workers/*',
        '/v1/object-stores/*',
        '/v1/tenants/*',
        '/v1/admin/*',
      ]),
    );
    const real = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`);
    const documented = operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(new Set(real).size).toBe(real.length);
    expect([...documented].sort()).toEqual([...real].sort());
    expect(documented).toContain('GET /v1/agent/connect');
    expect(documented).toContain('GET /v1/openapi.json');
  });
});

describe('the document', () => {
  it('is OpenAPI 3.1 with unique operation ids and described replies', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, op } of operations) {
      expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, reply] of Object.entries(op.responses)) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        expect(reply.description.length).toBeGreaterThan(0);
        if (Number(status) >= 400)
          expect(reply.content?.['application/json']?.schema).toEqual({
            $ref: `${COMPONENTS}ErrorBody`,
          });
      }
    }
  });

  it('resolves every $ref, and names components as OpenAPI allows', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(20);
    for (const ref of all) {
      expect(ref.startsWith(COMPONENTS), ref).toBe(true);
      expect(resolve(ref), ref).toBeTypeOf('object');
    }
    for (const name of Object.keys(doc.components.schemas))
      expect(name).toMatch(/^[a-zA-Z0-9._-]+$/);
    // No JSON Schema resource markers left to change how refs resolve.
    expect(JSON.stringify(doc)).not.toMatch(/"\$(schema|id|defs)"/);
  });

  it('declares every path parameter, and only those', () => {
    for (const { method, path, op } of operations) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(inPath);
      for (const p of declared) expect(p.required).toBe(true);
    }
  });
});

describe('generated from the protocol schemas', () => {
  const routeOf = (route: ApiRoute) => doc.paths[route.path]?.[route.method] as Operation;

  it('has as each component exactly z.toJSONSchema of its schema', () => {
    for (const [name, schema] of Object.entries(REQUEST_SCHEMAS))
      expect(canonical(standalone(doc.components.schemas[name] ?? {})), name).toEqual(
        converted(schema, 'input'),
      );
    for (const [name, schema] of Object.entries(RESPONSE_SCHEMAS))
      expect(canonical(standalone(doc.components.schemas[name] ?? {})), name).toEqual(
        converted(schema, 'output'),
      );
    // The recursive JSON value (z.json()) of echo payloads is the one hoisted definition.
    expect(Object.keys(doc.components.schemas).filter((n) => n.includes('.'))).toEqual([
      'input.schema0',
    ]);
  });

  it('refers each body and reply to the component of its route-table schema', () => {
    const nameOf = new Map<z.ZodType, string>(
      [...Object.entries(REQUEST_SCHEMAS), ...Object.entries(RESPONSE_SCHEMAS)].map(([n, s]) => [
        s,
        n,
      ]),
    );
    for (const route of API_ROUTES) {
      const op = routeOf(route);
      if (route.body)
        expect(op.requestBody?.content['application/json']?.schema).toEqual({
          $ref: `${COMPONENTS}${nameOf.get(route.body)}`,
        });
      for (const [status, reply] of Object.entries(route.replies))
        for (const [type, schema] of Object.entries(reply.content ?? {}))
          expect(op.responses[status]?.content?.[type]?.schema).toEqual(
            schema === null ? undefined : { $ref: `${COMPONENTS}${nameOf.get(schema)}` },
          );
    }
  });

  it('has as query parameters the fields of z.toJSONSchema of the query schema', () => {
    for (const route of API_ROUTES) {
      const query = (routeOf(route).parameters ?? []).filter((p) => p.in === 'query');
      if (!route.query) {
        expect(query, route.path).toEqual([]);
        continue;
      }
      const schema = z.toJSONSchema(route.query, conversion('input'));
      expect(Object.fromEntries(query.map((p) => [p.name, p.schema]))).toEqual(schema.properties);
      expect(query.filter((p) => p.required).map((p) => p.name)).toEqual(schema.required ?? []);
    }
  });
});

describe('GET /v1/openapi.json', () => {
  it('serves the generated document as cacheable JSON', async () => {
    const response = await SELF.fetch('http://scheduler.test/v1/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(await response.json()).toEqual(doc);
  });
});

describe('real replies match the document', () => {
  afterEach(cleanUp);

  it('for workers, jobs, tasks, logs and errors', async () => {
    conforms('GET', '/v1/health', await api('GET', '/v1/health'));
    const { agent, workerId } = await joinAgent();
    conforms('GET', '/v1/workers', await api('GET', '/v1/workers'));
    conforms('GET', '/v1/workers/{id}', await api('GET', `/v1/workers/${workerId}`));
    const address = uniqueAddress();
    const registered = await api('POST', '/v1/workers', { address });
    expect(registered.status).toBe(201);
    conforms('POST', '/v1/workers', registered);
    conforms('POST', '/v1/workers', await api('POST', '/v1/workers', { address }));

    const submitted = await api<JobView>('POST', '/v1/jobs', {
      kind: 'echo',
      payload: { a: [1, 'two', null] },
      workers: [workerId],
    });
    expect(submitted.status).toBe(202);
    conforms('POST', '/v1/jobs', submitted);
    const job = submitted.body;
    const task = await assignmentOf(agent, job.id);
    complete(agent, task, { echoed: true });
    await agent.sync();
    conforms('GET', '/v1/jobs/{id}', await api('GET', `/v1/jobs/${job.id}`));
    conforms('GET', '/v1/jobs', await api('GET', '/v1/jobs?limit=5'));
    conforms('GET', '/v1/tasks', await api('GET', '/v1/tasks?limit=5'));
    conforms('GET', '/v1/tasks/{id}', await api('GET', `/v1/tasks/${task.taskId}`));
    conforms('GET', '/v1/jobs/{id}/logs', await api('GET', `/v1/jobs/${job.id}/logs`));
    conforms('GET', '/v1/tasks/{id}/logs', await api('GET', `/v1/tasks/${task.taskId}/logs`));
    conforms('POST', '/v1/jobs/{id}/cancel', await api('POST', `/v1/jobs/${job.id}/cancel`));
    conforms('GET', '/v1/jobs/{id}/result', await api('GET', `/v1/jobs/${job.id}/result`));

    const queued = await submitJob({ kind: 'echo', count: 2 });
    conforms('POST', '/v1/jobs/{id}/cancel', await api('POST', `/v1/jobs/${queued.id}/cancel`));
    conforms('GET', '/v1/jobs/{id}', await api('GET', '/v1/jobs/not-a-uuid'));
    conforms('POST', '/v1/jobs', await api('POST', '/v1/jobs', '{"kind":'));
    conforms('GET', '/v1/jobs', await api('GET', '/v1/jobs?colour=red'));
    conforms('GET', '/v1/agent/connect', await api('GET', '/v1/agent/connect'));

    // A followed log is NDJSON: each line is a LogStreamLine.
    const followed = await SELF.fetch(
      `http://scheduler.test/v1/tasks/${task.taskId}/logs?follow=true`,
      { headers: ADMIN },
    );
    const lines = new TextDecoder()
      .decode(await followed.arrayBuffer())
      .split('\n')
      .filter((line) => line.length > 0);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(RESPONSE_SCHEMAS.LogStreamLine.parse(JSON.parse(line))).toBeTruthy();

    conforms('DELETE', '/v1/workers/{id}', await api('DELETE', `/v1/workers/${workerId}`));
    const gone = await api('DELETE', `/v1/workers/${workerId}?force=true`);
    conforms('DELETE', '/v1/workers/{id}', gone);
  });

  it('for object stores', async () => {
    const name = `openapi-${Date.now().toString(36)}`;
    const store = {
      name,
      url: `s3://bucket-${name}/data`,
      endpoint: 'http://127.0.0.1:1',
      accessKeyId: 'AKIATESTKEY',
      secretAccessKey: 'not-a-real-secret',
    };
    const created = await api('POST', '/v1/object-stores', store);
    expect(created.status).toBe(201);
    conforms('POST', '/v1/object-stores', created);
    conforms('POST', '/v1/object-stores', await api('POST', '/v1/object-stores', store));
    conforms('GET', '/v1/object-stores', await api('GET', '/v1/object-stores'));
    conforms('GET', '/v1/object-stores/{id}', await api('GET', `/v1/object-stores/${name}`));
    const browse = await api('GET', `/v1/object-stores/${name}/objects`);
    expect(browse.status).toBe(502);
    conforms('GET', '/v1/object-stores/{id}/objects', browse);
    conforms('DELETE', '/v1/object-stores/{id}', await api('DELETE', `/v1/object-stores/${name}`));
    conforms('GET', '/v1/object-stores/{id}', await api('GET', `/v1/object-stores/${name}`));
  });
});
