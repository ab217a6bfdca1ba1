/**
 * /api/applications: a tenant's applications and their pipelines: define pipelines (versioned),
 * submit data to them, read their tasks and load figures. Every call acts inside the caller's
 * tenant, so another tenant's application answers 404, exactly like one that does not exist.
 * The admin may read (GET only) the applications of the tenant `?tenant=ID` names.
 */
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { scheduler } from '../scheduler-stub.ts';
import { ApiError, badRequest, forbidden, unwrap } from '../errors.ts';
import { checkBody, pathId, readJsonBody, readQuery } from '../validate.ts';
import { principalOf, requireTenant } from '../auth/principal.ts';
import {
  ApplicationsQuery,
  InlinePipelineRequest,
  PipelineBatch,
  PipelineQuery,
  PipelineTaskData,
  ResourceName,
  StoredPipelineRequest,
  SubmitJobQuery,
} from '../../protocol/index.ts';

/** A path name that is not a valid name names nothing: 404, as for an unknown one. */
function nameParam(c: Context, param: 'app' | 'pipeline'): string {
  const name = c.req.param(param) ?? '';
  if (!ResourceName.safeParse(name).success) {
    const what = param === 'app' ? 'application' : 'pipeline';
    throw new ApiError({ status: 404, code: 'not_found', message: `${what} ${name} not found` });
  }
  return name;
}

/** An inline definition, or `{"name", "from": {store, key}}` to read it from an object store. */
function pipelineRequest(json: unknown) {
  const from = typeof json === 'object' && json !== null && 'from' in json;
  return from ? checkBody(json, StoredPipelineRequest) : checkBody(json, InlinePipelineRequest);
}

/** A JSON object submits one task; an array of objects, one task per item. */
function submission(json: unknown) {
  return Array.isArray(json) ? checkBody(json, PipelineBatch) : [checkBody(json, PipelineTaskData)];
}

/**
 * The tenant whose applications a GET reads. A tenant reads its own: naming another with
 * `?tenant=` is a 403. The admin must name one (400 without), and an unknown one is a 404.
 */
async function readerTenant(c: Context<AppEnv>, tenant: string | undefined): Promise<string> {
  const principal = principalOf(c);
  const named = tenant?.toLowerCase();
  if (principal.kind === 'tenant') {
    if (named !== undefined && named !== principal.tenantId)
      throw forbidden("a tenant token reads only its own tenant's applications");
    return principal.tenantId;
  }
  if (named === undefined)
    throw badRequest(
      "the admin reads a tenant's applications: pass ?tenant=ID (GET /v1/tenants lists them)",
    );
  return unwrap(await scheduler(c.env).getTenant(named)).id;
}

/** readerTenant for a GET whose query holds only `tenant`. */
const reader = (c: Context<AppEnv>) => readerTenant(c, readQuery(c, ApplicationsQuery).tenant);

export const applications = new Hono<AppEnv>()
  .get('/', async (c) => {
    const tenantId = await reader(c);
    return c.json({ applications: unwrap(await scheduler(c.env).listApplications(tenantId)) });
  })
  .get('/:app', async (c) => {
    const tenantId = await reader(c);
    return c.json(unwrap(await scheduler(c.env).getApplication(tenantId, nameParam(c, 'app'))));
  })
  .get('/:app/pipelines', async (c) => {
    const tenantId = await reader(c);
    const pipelines = unwrap(await scheduler(c.env).listPipelines(tenantId, nameParam(c, 'app')));
    return c.json({ pipelines });
  })
  .post('/:app/pipelines', async (c) => {
    const { tenantId } = requireTenant(c);
    const app = c.req.param('app');
    const valid = ResourceName.safeParse(app);
    if (!valid.success)
      throw badRequest(
        `invalid application name ${JSON.stringify(app)}: ${valid.error.issues[0]?.message}`,
      );
    const request = pipelineRequest(await readJsonBody(c));
    const { pipeline, created } = unwrap(
      await scheduler(c.env).definePipeline(tenantId, valid.data, request),
    );
    return c.json(pipeline, created ? 201 : 200);
  })
  .get('/:app/pipelines/:pipeline', async (c) => {
    const { tenant, version } = readQuery(c, PipelineQuery);
    const tenantId = await readerTenant(c, tenant);
    const stub = scheduler(c.env);
    const app = nameParam(c, 'app');
    return c.json(unwrap(await stub.getPipeline(tenantId, app, nameParam(c, 'pipeline'), version)));
  })
  .delete('/:app/pipelines/:pipeline', async (c) => {
    const { tenantId } = requireTenant(c);
    const app = nameParam(c, 'app');
    return c.json(
      unwrap(await scheduler(c.env).deletePipeline(tenantId, app, nameParam(c, 'pipeline'))),
    );
  })
  .post('/:app/pipelines/:pipeline', async (c) => {
    const { tenantId } = requireTenant(c);
    const { wait } = readQuery(c, SubmitJobQuery);
    const app = nameParam(c, 'app');
    const pipeline = nameParam(c, 'pipeline');
    const items = submission(await readJsonBody(c));
    const stub = scheduler(c.env);
    return c.json(
      unwrap(await stub.submitPipelineTasks(tenantId, app, pipeline, items, wait)),
      202,
    );
  })
  .get('/:app/pipelines/:pipeline/tasks/:id', async (c) => {
    const tenantId = await reader(c);
    const app = nameParam(c, 'app');
    const pipeline = nameParam(c, 'pipeline');
    const stub = scheduler(c.env);
    return c.json(unwrap(await stub.getPipelineTask(tenantId, app, pipeline, pathId(c, 'task'))));
  });
