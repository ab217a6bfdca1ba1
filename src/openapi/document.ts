/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table and the zod schemas in
 * protocol/ (never written by hand): request bodies and queries as the API accepts them (zod's
 * `io: 'input'`), replies as it sends them (`io: 'output'`), in JSON Schema 2020-12, the dialect
 * of OpenAPI 3.1.
 */
import { z } from 'zod';
import {
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  MAX_SPEC_BYTES,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';
import {
  API_ROUTES,
  type ApiAuth,
  type ApiErrors,
  REQUEST_SCHEMAS,
  RESPONSE_SCHEMAS,
  type ApiRoute,
} from '../../protocol/openapi.ts';

type Json = Record<string, unknown>;
export type Io = 'input' | 'output';

export const OPENAPI_VERSION = '3.1.1';
export const COMPONENTS = '#/components/schemas/';

/**
 * How every schema is converted; tests convert the same way. Nothing in protocol/ is
 * unrepresentable today (z.unknown() becomes `{}`, z.json() a recursive JSON value), so a schema
 * that is (a transform, a date, a bigint…) fails the build instead of silently becoming `{}`.
 */
export const conversion = (io: Io) =>
  ({ target: 'draft-2020-12', io, unrepresentable: 'throw' }) as const;

/** Replaces every `$ref` found in `value` with `rename($ref)`. */
function renameRefs(value: unknown, rename: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, rename));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === '$ref' && typeof item === 'string' ? rename(item) : renameRefs(item, rename),
    ]),
  );
}

/**
 * Converts named schemas into components that refer to each other by `$ref`. zod puts what they
 * share that has no name (a recursive z.json(), say) in the `$defs` of a `__shared` entry; those
 * become components of their own, named `<io>.<def>`.
 */
export function componentSchemas(named: Record<string, z.ZodType>, io: Io): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    ...conversion(io),
    uri: (id) => `${COMPONENTS}${id}`,
  });
  const shared = `${COMPONENTS}__shared#/$defs/`;
  const local = '#/$defs/';
  // `owner` names the defs of one schema: its id, or the io for the shared ones.
  const rewrite = (owner: string) => (ref: string) =>
    ref.startsWith(shared)
      ? `${COMPONENTS}${io}.${ref.slice(shared.length)}`
      : ref.startsWith(local)
        ? `${COMPONENTS}${owner}.${ref.slice(local.length)}`
        : ref;
  const components: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _uri, $defs, ...rest } = schema as Json;
    const owner = id === '__shared' ? io : id;
    for (const [def, body] of Object.entries(($defs ?? {}) as Record<string, Json>))
      components[`${owner}.${def}`] = renameRefs(body, rewrite(owner)) as Json;
    if (id !== '__shared') components[id] = renameRefs(rest, rewrite(id)) as Json;
  }
  return components;
}

/** The parameters of a route: path params, then one per field of its query schema. */
export function parameters(route: ApiRoute): Json[] {
  const list: Json[] = [];
  for (const [name, schema] of Object.entries(route.pathParams ?? {})) {
    const { $schema: _, ...converted } = z.toJSONSchema(schema, conversion('input'));
    list.push({
      name,
      in: 'path',
      required: true,
      description: converted.description,
      schema: converted,
    });
  }
  if (route.query) {
    const converted = z.toJSONSchema(route.query, conversion('input'));
    if (converted.$defs) throw new Error(`${route.path}: a query schema with $defs`);
    const required = new Set(converted.required ?? []);
    for (const [name, schema] of Object.entries(converted.properties ?? {}))
      list.push({ name, in: 'query', required: required.has(name), schema });
  }
  return list;
}

function refTo(names: Map<z.ZodType, string>, schema: z.ZodType, where: string): Json {
  const name = names.get(schema);
  if (!name) throw new Error(`${where}: the schema has no name in protocol/openapi.ts`);
  return { $ref: `${COMPONENTS}${name}` };
}

const RETRY_AFTER = {
  'Retry-After': {
    description: 'seconds to wait before retrying',
    schema: { type: 'integer', minimum: 0 },
  },
};

/** The errors every route behind a token can answer, by who may call it. */
function authErrors(auth: ApiAuth = 'token'): ApiErrors {
  if (auth === 'open' || auth === 'join') return {};
  return {
    401: 'no token, or a wrong one',
    ...(auth === 'admin' && { 403: 'a tenant token; this route is the admin’s' }),
    ...(auth === 'metrics' && { 403: 'a tenant token; metrics need the admin or metrics token' }),
    429: 'too many wrong tokens from this client lately',
    503:
      auth === 'metrics'
        ? 'the control plane has neither an admin token nor a metrics token set'
        : 'the control plane has no admin token set',
  };
}

const SCHEMES: Record<ApiAuth, string | null> = {
  open: null,
  join: 'joinToken',
  admin: 'apiToken',
  metrics: 'metricsToken',
  token: 'apiToken',
};

function security(auth: ApiAuth = 'token'): Json {
  const scheme = SCHEMES[auth];
  return scheme === null ? {} : { security: [{ [scheme]: [] }] };
}

function operation(
  route: ApiRoute,
  requests: Map<z.ZodType, string>,
  responses: Map<z.ZodType, string>,
): Json {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  const replies: Json = {};
  for (const [status, reply] of Object.entries(route.replies)) {
    replies[status] = {
      description: reply.description,
      ...(reply.content && {
        content: Object.fromEntries(
          Object.entries(reply.content).map(([type, schema]) => [
            type,
            schema === null ? {} : { schema: refTo(responses, schema, where) },
          ]),
        ),
      }),
    };
  }
  for (const [status, when] of Object.entries({ ...authErrors(route.auth), ...route.errors })) {
    replies[status] = {
      description: when,
      ...(status === '429' && { headers: RETRY_AFTER }),
      content: { 'application/json': { schema: { $ref: `${COMPONENTS}ErrorBody` } } },
    };
  }
  const params = parameters(route);
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(params.length > 0 && { parameters: params }),
    ...(route.body && {
      requestBody: {
        required: true,
        content: { 'application/json': { schema: refTo(requests, route.body, where) } },
      },
    }),
    responses: replies,
    ...security(route.auth),
  };
}

const DESCRIPTION = `A distributed job scheduler's control plane. Every error is an \`ErrorBody\`.
Generated from the zod schemas of protocol/; checks those schemas make with code (non-empty
commands, paths inside the work dir, port ranges, filter operands…) have no JSON Schema form, so
the server may refuse what a schema here allows, always with a 400. Unknown query parameters are
400s; request bodies over ${MAX_BODY_BYTES} bytes are 413s, bodies nested deeper than
${MAX_JSON_DEPTH} levels are 400 \`json_too_deep\`, and a job whose spec is over ${MAX_SPEC_BYTES} bytes
of JSON as stored (numbers written out) is 400 \`spec_too_large\`.`;

export function buildOpenApiDocument(): Json {
  const requests = new Map(Object.entries(REQUEST_SCHEMAS).map(([n, s]) => [s as z.ZodType, n]));
  const responses = new Map(Object.entries(RESPONSE_SCHEMAS).map(([n, s]) => [s as z.ZodType, n]));
  const schemas = componentSchemas(REQUEST_SCHEMAS, 'input');
  for (const [name, schema] of Object.entries(componentSchemas(RESPONSE_SCHEMAS, 'output'))) {
    if (name in schemas) throw new Error(`schema ${name} is both a request and a response`);
    schemas[name] = schema;
  }
  const paths: Record<string, Json> = {};
  for (const route of API_ROUTES) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`${route.method} ${route.path} twice in the table`);
    item[route.method] = operation(route, requests, responses);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'TM Scheduler', version: String(PROTOCOL_VERSION), description: DESCRIPTION },
    tags: [...new Set(API_ROUTES.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        joinToken: {
          type: 'http',
          scheme: 'bearer',
          description: "the cluster's join token, or the one a worker got at registration",
        },
        apiToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'the admin token, or a tenant token (which sees only its own jobs)',
        },
        metricsToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'the admin token, or the metrics token (TM_METRICS_TOKEN), which reads /metrics alone',
        },
      },
    },
  };
}

let served: string | undefined;

/** The document as served: built and serialized once per isolate, on first use. */
export function openApiJson(): string {
  served ??= JSON.stringify(buildOpenApiDocument());
  return served;
}
