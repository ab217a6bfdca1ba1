/** `tm tenant create|set` permission flags: what request fields they make, and what they refuse. */
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.ts';
import { UsageError } from '../../cli/exit.ts';
import {
  PERMISSION_FLAGS,
  describePermissions,
  permissionRequest,
} from '../../cli/commands/tenant-permissions.ts';
import { DEFAULT_TENANT_PERMISSIONS } from '../../protocol/index.ts';

const request = (argv: string[]) => permissionRequest(parseArgs(argv, PERMISSION_FLAGS));

describe('tenant permission flags', () => {
  it('give only the fields named', () => {
    expect(request([])).toEqual({});
    expect(request(['--kinds', 'command,echo', '--executors', '*', '--free-form'])).toEqual({
      permissions: { jobKinds: ['command', 'echo'], executors: ['*'], freeFormPrograms: true },
    });
    expect(request(['--kinds', '', '--max-queued', '50'])).toEqual({
      permissions: { jobKinds: [] },
      maxQueuedTasks: 50,
    });
    expect(request(['--max-queued', 'default'])).toEqual({ maxQueuedTasks: null });
  });

  it('collect --read and --write into one grant per store; --no-stores takes them all back', () => {
    const argv = ['--read', 'data:acme/', '--read', 'data:shared/', '--write', 'data:acme/out/'];
    expect(request([...argv, '--read', 'logs:'])).toEqual({
      permissions: {
        stores: [
          { store: 'data', read: ['acme/', 'shared/'], write: ['acme/out/'] },
          { store: 'logs', read: [''], write: [] },
        ],
      },
    });
    expect(request(['--no-stores'])).toEqual({ permissions: { stores: [] } });
  });

  it('refuse unknown kinds, a store without a colon, bad quotas and contradictions', () => {
    for (const argv of [
      ['--kinds', 'shell'],
      ['--read', 'acme/'],
      ['--max-queued', '0'],
      ['--free-form', '--no-free-form'],
      ['--no-stores', '--read', 'data:x/'],
    ])
      expect(() => request(argv), argv.join(' ')).toThrow(UsageError);
  });

  it('describe a tenant in a few lines', () => {
    const text = describePermissions({
      id: 'id',
      name: 'acme',
      weight: 1,
      permissions: {
        ...DEFAULT_TENANT_PERMISSIONS,
        stores: [{ store: 'data', read: [''], write: ['acme/'] }],
      },
      maxQueuedTasks: null,
      createdAt: '',
      tokens: [],
    });
    expect(text).toContain('job kinds:          echo, pipeline, aggregate');
    expect(text).toContain('executors:          none');
    expect(text).toContain('stores:             data (read all; write acme/)');
    expect(text).toContain('queue quota:        default');
  });
});
