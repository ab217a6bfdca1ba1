/**
 * The flags of `tm tenant create` and `tm tenant set` that grant permissions and set the queue
 * quota, as a request's fields; and a one-line summary of what a tenant may do.
 */
import {
  TenantJobKind,
  type StoreGrant,
  type TenantPermissionsPatch,
  type TenantView,
} from '../../protocol/index.ts';
import { boolFlag, listFlag, stringFlag, type FlagSpecs, type ParsedArgs } from '../args.ts';
import { UsageError } from '../exit.ts';

export const PERMISSION_FLAGS: FlagSpecs = {
  kinds: {
    type: 'string',
    value: 'K,K',
    help: 'job kinds it may submit: command, pipeline, aggregate, echo ("" for none)',
  },
  executors: {
    type: 'string',
    value: 'E,E',
    help: 'executors its pipeline steps may name, or "*" for any ("" for none)',
  },
  'free-form': {
    type: 'boolean',
    help: 'let its pipeline steps run programs other than their executor',
  },
  'no-free-form': { type: 'boolean', help: 'steps run only their own executor (the default)' },
  read: {
    type: 'string',
    multiple: true,
    value: 'STORE:FOLDER',
    help: 'a folder of a store it may read ("STORE:" for all of it); replaces its store grants',
  },
  write: {
    type: 'string',
    multiple: true,
    value: 'STORE:FOLDER',
    help: 'a folder of a store its aggregations may write to; replaces its store grants',
  },
  'no-stores': { type: 'boolean', help: 'take back every store grant' },
  'max-queued': {
    type: 'string',
    value: 'N',
    help: 'most tasks it may have queued ("default": a quarter of the cluster’s bound)',
  },
};

const list = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/** The store grants of --read and --write, one per store, folders in the order given. */
function storeGrants(args: ParsedArgs): StoreGrant[] | undefined {
  const reads = listFlag(args, 'read');
  const writes = listFlag(args, 'write');
  if (boolFlag(args, 'no-stores')) {
    if (reads.length || writes.length)
      throw new UsageError('--no-stores takes back every grant: give it without --read or --write');
    return [];
  }
  if (!reads.length && !writes.length) return undefined;
  const grants = new Map<string, StoreGrant>();
  const add = (access: 'read' | 'write', spec: string) => {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new UsageError(`--${access} expects STORE:FOLDER, got "${spec}"`);
    const store = spec.slice(0, colon);
    const grant = grants.get(store) ?? { store, read: [], write: [] };
    grant[access].push(spec.slice(colon + 1));
    grants.set(store, grant);
  };
  for (const spec of reads) add('read', spec);
  for (const spec of writes) add('write', spec);
  return [...grants.values()];
}

/** The permission fields and quota the flags give; fields not given are left out. */
export function permissionRequest(args: ParsedArgs): {
  permissions?: TenantPermissionsPatch;
  maxQueuedTasks?: number | null;
} {
  const permissions: TenantPermissionsPatch = {};
  const kinds = stringFlag(args, 'kinds');
  if (kinds !== undefined)
    permissions.jobKinds = list(kinds).map((kind) => {
      const parsed = TenantJobKind.safeParse(kind);
      if (!parsed.success)
        throw new UsageError(`--kinds: "${kind}" is not one of command, pipeline, aggregate, echo`);
      return parsed.data;
    });
  const executors = stringFlag(args, 'executors');
  if (executors !== undefined) permissions.executors = list(executors);
  if (boolFlag(args, 'free-form') && boolFlag(args, 'no-free-form'))
    throw new UsageError('give --free-form or --no-free-form, not both');
  if (boolFlag(args, 'free-form')) permissions.freeFormPrograms = true;
  if (boolFlag(args, 'no-free-form')) permissions.freeFormPrograms = false;
  const stores = storeGrants(args);
  if (stores) permissions.stores = stores;
  const quota = stringFlag(args, 'max-queued');
  const maxQueuedTasks = quota === undefined ? undefined : parseQuota(quota);
  return {
    ...(Object.keys(permissions).length ? { permissions } : {}),
    ...(maxQueuedTasks === undefined ? {} : { maxQueuedTasks }),
  };
}

function parseQuota(text: string): number | null {
  if (text === 'default') return null;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--max-queued expects a positive integer or "default", got "${text}"`);
  return value;
}

const named = (items: readonly string[]) => (items.length ? items.join(', ') : 'none');

/** What the tenant may do, in one line each. */
export function describePermissions(tenant: TenantView): string {
  const { jobKinds, executors, freeFormPrograms, stores } = tenant.permissions;
  const grants = stores.map(
    (g) =>
      `${g.store} (read ${named(g.read.map(shownFolder))}; write ${named(g.write.map(shownFolder))})`,
  );
  return [
    `  job kinds:          ${named(jobKinds)}`,
    `  executors:          ${executors.includes('*') ? 'any' : named(executors)}`,
    `  free-form programs: ${freeFormPrograms ? 'yes' : 'no'}`,
    `  stores:             ${named(grants)}`,
    `  queue quota:        ${tenant.maxQueuedTasks ?? 'default (a quarter of the cluster’s bound)'}`,
  ].join('\n');
}

const shownFolder = (folder: string) => (folder === '' ? 'all' : folder);
