/**
 * The rules of tenant permissions (protocol/tenants.ts), pure: whether a job kind, a pipeline's
 * steps or a store key is allowed, and if not, a denial that names what is missing.
 */
import {
  ANY_EXECUTOR,
  isPlainKey,
  parseCommandTemplate,
  stepName,
  type StepShape,
  type TenantJobKind,
  type TenantPermissions,
} from '../protocol/index.ts';

/** Which permission a denial is about: `details.permission` of the 403. */
export type PermissionCode =
  'job_kind' | 'free_form_program' | 'executor' | 'store_read' | 'store_write';

export interface Denial {
  permission: PermissionCode;
  message: string;
  details: Record<string, string | number>;
}

const GRANT = 'the admin grants it with PATCH /v1/tenants/{id}';

export function deniedKind(permissions: TenantPermissions, kind: TenantJobKind): Denial | null {
  if (permissions.jobKinds.includes(kind)) return null;
  return {
    permission: 'job_kind',
    message: `this tenant may not submit ${kind} jobs (permissions.jobKinds); ${GRANT}`,
    details: { kind },
  };
}

/**
 * The first step whose executor is not granted, or whose command runs a program other than the
 * step's own executor (a free-form program) when those are not granted.
 */
export function deniedSteps(
  permissions: TenantPermissions,
  steps: readonly StepShape[],
): Denial | null {
  const anyExecutor = permissions.executors.includes(ANY_EXECUTOR);
  for (const [s, step] of steps.entries()) {
    const where = `step ${s + 1} "${stepName(step)}"`;
    if (!anyExecutor && !permissions.executors.includes(step.executor))
      return {
        permission: 'executor',
        message: `${where} names executor ${step.executor}, which this tenant may not use (permissions.executors); ${GRANT}`,
        details: { step: s + 1, executor: step.executor },
      };
    if (permissions.freeFormPrograms) continue;
    for (const [c, command] of step.commands.entries()) {
      const program = programOf(command);
      if (program === step.executor) continue;
      return {
        permission: 'free_form_program',
        message:
          `${where}, command ${c + 1} runs ${program ?? 'a program built from variables'}, ` +
          `not the step's executor ${step.executor}: free-form programs are not granted to this ` +
          `tenant (permissions.freeFormPrograms); ${GRANT}`,
        details: { step: s + 1, command: c + 1, executor: step.executor },
      };
    }
  }
  return null;
}

/** The program a command template runs, when its first word is plain text; else null. */
function programOf(command: string): string | null {
  const parsed = parseCommandTemplate(command);
  const first = parsed.ok ? parsed.words[0] : undefined;
  if (!first || first.length !== 1) return null;
  const [part] = first;
  return part && 'text' in part ? part.text : null;
}

/** A store as the checks know it: the strings a grant's `store` may match. */
export interface StoreNames {
  id: string;
  name: string;
}

/**
 * Whether the tenant may `access` `key` (a key, or the prefix of a listing, relative to the store's
 * own prefix) of the store a job names as `given` (`store`: what that resolved to, null when no
 * store has that name). A grant names a store by name or id; its folders cover keys that start
 * with them.
 */
export function deniedStoreAccess(
  permissions: TenantPermissions,
  access: 'read' | 'write',
  given: string,
  store: StoreNames | null,
  key: string,
): Denial | null {
  const folders = permissions.stores
    .filter((grant) => [given, store?.name, store?.id].includes(grant.store))
    .flatMap((grant) => grant[access]);
  if (isPlainKey(key) && folders.some((folder) => key.startsWith(folder))) return null;
  const shown = key === '' ? 'the whole store' : key;
  const plain = isPlainKey(key) ? '' : ' ("." and ".." segments and "\\" are never allowed)';
  return {
    permission: access === 'read' ? 'store_read' : 'store_write',
    message: `this tenant may not ${access} ${shown} of store ${given}${plain} (permissions.stores); ${GRANT}`,
    details: { store: given, key },
  };
}
