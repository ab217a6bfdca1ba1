/** Tenant permissions: the defaults, job kinds, executors, free-form programs, store folders. */
import { describe, expect, it } from 'vitest';
import {
  CreateTenantRequest,
  DEFAULT_TENANT_PERMISSIONS,
  StoreFolder,
  UpdateTenantRequest,
  type TenantPermissions,
} from '../../protocol/index.ts';
import {
  deniedKind,
  deniedStoreAccess,
  deniedSteps,
} from '../../durable-objects/tenant-permissions.ts';
import { parsePermissions } from '../../durable-objects/db/tenants.ts';

const granted = (over: Partial<TenantPermissions>): TenantPermissions => ({
  ...DEFAULT_TENANT_PERMISSIONS,
  ...over,
});
const DATA = { id: 'store-uuid', name: 'data' };

describe('defaults', () => {
  it('allow echo, pipeline and aggregate, never commands, free-form programs, executors or stores', () => {
    const d = DEFAULT_TENANT_PERMISSIONS;
    for (const kind of ['echo', 'pipeline', 'aggregate'] as const)
      expect(deniedKind(d, kind)).toBeNull();
    expect(deniedKind(d, 'command')).toMatchObject({
      permission: 'job_kind',
      message: expect.stringContaining('may not submit command jobs'),
    });
    expect(deniedSteps(d, [{ executor: 'wget', commands: ['wget x'] }])?.permission).toBe(
      'executor',
    );
    expect(deniedStoreAccess(d, 'read', 'data', DATA, 'acme/')?.permission).toBe('store_read');
  });

  it('are what a stored "{}" reads back as, and a stored field the schema refuses throws', () => {
    expect(parsePermissions('{}')).toEqual(DEFAULT_TENANT_PERMISSIONS);
    expect(parsePermissions('{"jobKinds":["command"]}').jobKinds).toEqual(['command']);
    expect(() => parsePermissions('{"jobKinds":["shell"]}')).toThrow();
    expect(() => parsePermissions('{"admin":true}')).toThrow();
  });
});

describe('pipeline steps', () => {
  const steps = [
    { executor: 'wget', commands: ['wget -O {{workdir}}/a {{url}}'] },
    { name: 'ocr', executor: 'tesseract', commands: ['tesseract {{workdir}}/a', 'cat x'] },
  ];

  it('need every executor granted, or "*"', () => {
    const some = granted({ executors: ['wget'], freeFormPrograms: true });
    expect(deniedSteps(some, steps)).toMatchObject({
      permission: 'executor',
      details: { step: 2, executor: 'tesseract' },
    });
    expect(deniedSteps({ ...some, executors: ['wget', 'tesseract'] }, steps)).toBeNull();
    expect(deniedSteps({ ...some, executors: ['*'] }, steps)).toBeNull();
  });

  it('run only their own executor unless free-form programs are granted', () => {
    const executors = granted({ executors: ['*'] });
    const denial = deniedSteps(executors, steps);
    expect(denial).toMatchObject({
      permission: 'free_form_program',
      details: { step: 2, command: 2, executor: 'tesseract' },
    });
    expect(denial?.message).toContain("runs cat, not the step's executor tesseract");
    for (const program of ['{{workdir}}/run.sh', 'sh -c x', '/usr/bin/wget x', "'wget' x"])
      expect(
        deniedSteps(executors, [{ executor: 'wget', commands: [program] }])?.permission,
        program,
      ).toBe(program === "'wget' x" ? undefined : 'free_form_program');
    expect(deniedSteps({ ...executors, freeFormPrograms: true }, steps)).toBeNull();
  });
});

describe('store folders', () => {
  const acme = granted({
    stores: [{ store: 'data', read: ['acme/', 'shared/'], write: ['acme/out/'] }],
  });

  it('cover keys under them, in the store named by name or by id', () => {
    expect(deniedStoreAccess(acme, 'read', 'data', DATA, 'acme/x.parquet')).toBeNull();
    expect(deniedStoreAccess(acme, 'read', 'store-uuid', DATA, 'shared/')).toBeNull();
    expect(deniedStoreAccess(acme, 'write', 'data', DATA, 'acme/out/run-1/')).toBeNull();
  });

  it('refuse other folders, look-alike names, the whole store, other stores and writes', () => {
    const refused: [string, 'read' | 'write', string][] = [
      ['data', 'read', 'bob/'],
      ['data', 'read', 'acme'],
      ['data', 'read', 'acme-2/x'],
      ['data', 'read', ''],
      ['other', 'read', 'acme/x'],
      ['data', 'write', 'acme/'],
      ['data', 'write', 'bob/out/'],
    ];
    for (const [store, access, key] of refused) {
      const names = store === 'data' ? DATA : null;
      const denial = deniedStoreAccess(acme, access, store, names, key);
      expect(denial?.permission, `${access} ${store}:${key}`).toBe(`store_${access}`);
      expect(denial?.message).toContain(`of store ${store}`);
    }
  });

  it('refuse "." and ".." segments and backslashes even under a granted folder', () => {
    for (const key of ['acme/../bob/x', 'acme/./x', 'acme/..', 'acme/a\\..\\..\\bob'])
      expect(deniedStoreAccess(acme, 'read', 'data', DATA, key)?.message, key).toContain(
        'never allowed',
      );
    expect(StoreFolder.safeParse('acme/../').success).toBe(false);
    expect(StoreFolder.safeParse('acme').success).toBe(false);
    expect(StoreFolder.safeParse('/acme/').success).toBe(false);
    expect(StoreFolder.safeParse('').success).toBe(true);
  });
});

describe('requests', () => {
  it('take permissions and a quota at create and update; an empty update is refused', () => {
    expect(
      CreateTenantRequest.safeParse({
        name: 'acme',
        permissions: { jobKinds: ['command'] },
        maxQueuedTasks: 10,
      }).success,
    ).toBe(true);
    expect(UpdateTenantRequest.safeParse({ maxQueuedTasks: null }).success).toBe(true);
    expect(UpdateTenantRequest.safeParse({}).success).toBe(false);
    expect(
      UpdateTenantRequest.safeParse({ permissions: { stores: [{ store: 'x' }] } }).success,
    ).toBe(false);
  });
});
