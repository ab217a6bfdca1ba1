/**
 * Where the Scheduler enforces a tenant's permissions and queue quota: at submit, before anything is
 * stored or read. The admin (owner null) is never checked here.
 */
import type {
  AggregateJobRequest,
  StepShape,
  SubmitJobRequest,
  TenantPermissions,
} from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { SchedulerConfig } from './config.ts';
import { forbidden, notFound, rateLimited } from './failure.ts';
import { findStore } from './db/object-stores.ts';
import { queuedTaskCount, tenantLimits } from './db/tenants.ts';
import { deniedKind, deniedStoreAccess, deniedSteps, type Denial } from './tenant-permissions.ts';

/** Share of the cluster's queue bound a tenant may fill when it has no quota of its own. */
const DEFAULT_QUOTA_SHARE = 4;

function limitsOf(sql: Sql, tenantId: string) {
  const limits = tenantLimits(sql, tenantId);
  if (!limits) throw notFound('tenant', tenantId);
  return limits;
}

function refuse(denial: Denial | null): void {
  if (denial) throw forbidden(denial.message, { permission: denial.permission, ...denial.details });
}

/** Refuses (403) a job `owner` may not submit: its kind, and an aggregation's stores and folders. */
export function checkJob(sql: Sql, owner: string | null, request: SubmitJobRequest): void {
  if (owner === null) return;
  const { permissions } = limitsOf(sql, owner);
  // A dataflow job is as allowed as its stages' kinds are: each is checked as if submitted alone.
  const kinds =
    request.kind === 'dataflow'
      ? new Set(request.stages.map((stage) => stage.kind))
      : [request.kind];
  for (const kind of kinds) refuse(deniedKind(permissions, kind));
  if (request.kind === 'aggregate') checkAggregateStores(sql, permissions, request);
  if (request.kind !== 'dataflow') return;
  for (const stage of request.stages)
    if (stage.kind === 'aggregate') checkAggregateStores(sql, permissions, stage);
  if (request.outputs) checkFolderWrite(sql, permissions, request.outputs);
}

function checkAggregateStores(
  sql: Sql,
  permissions: TenantPermissions,
  request: Pick<AggregateJobRequest, 'source' | 'output'>,
): void {
  const { source, output } = request;
  const reads = source.paths
    ? source.paths.map((path) => path.replace(/^\/+/, ''))
    : [source.prefix ?? ''];
  for (const key of reads)
    refuse(
      deniedStoreAccess(permissions, 'read', source.store, storeNames(sql, source.store), key),
    );
  // Without `output`, a job writes only its own folder, _tm/jobs/<its id>/, which its reads allow.
  if (output) checkFolderWrite(sql, permissions, output);
}

/** Refuses (403) writing into a store's folder the tenant has no write grant for. */
function checkFolderWrite(
  sql: Sql,
  permissions: TenantPermissions,
  at: { store: string; prefix: string },
): void {
  const folder = at.prefix.replace(/^\/+|\/+$/g, '');
  const key = folder === '' ? '' : `${folder}/`;
  refuse(deniedStoreAccess(permissions, 'write', at.store, storeNames(sql, at.store), key));
}

/** Refuses (403) pipeline steps the tenant may not run: the kind, executors, free-form programs. */
export function checkPipelineSteps(sql: Sql, tenantId: string, steps: readonly StepShape[]): void {
  const { permissions } = limitsOf(sql, tenantId);
  refuse(deniedKind(permissions, 'pipeline'));
  refuse(deniedSteps(permissions, steps));
}

/** Refuses (403) reading `key` of a store the tenant names, as a pipeline's `from` does. */
export function checkStoreRead(sql: Sql, tenantId: string, store: string, key: string): void {
  const { permissions } = limitsOf(sql, tenantId);
  const relative = key.replace(/^\/+/, '');
  refuse(deniedStoreAccess(permissions, 'read', store, storeNames(sql, store), relative));
}

function storeNames(sql: Sql, idOrName: string) {
  const row = findStore(sql, idOrName);
  return row ? { id: row.id, name: row.name } : null;
}

/**
 * Refuses (429) a job that would take the tenant past its queue quota, so that one tenant's flood
 * leaves room in the cluster's bound for the others. Runs inside the submit's transaction.
 */
export function admitTenant(
  sql: Sql,
  config: SchedulerConfig,
  tenantId: string,
  adding: number,
): void {
  const { name, maxQueuedTasks } = limitsOf(sql, tenantId);
  const limit =
    maxQueuedTasks ?? Math.max(1, Math.floor(config.maxQueuedTasks / DEFAULT_QUOTA_SHARE));
  const queued = queuedTaskCount(sql, tenantId);
  if (queued + adding <= limit) return;
  const which =
    maxQueuedTasks === null ? 'its default quota, a quarter of the cluster’s' : 'its quota';
  throw rateLimited(
    `tenant ${name} has ${queued} queued tasks and may have at most ${limit} (${which}, ` +
      `maxQueuedTasks); this job would add ${adding}: retry when its queue is shorter`,
    { quota: 'tenant', tenant: name, queued, limit, adding },
  );
}
