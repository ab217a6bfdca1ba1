/** Task working directories stay inside the agent's work dir, lexically and through symlinks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTaskDir } from '../../worker-agent/workdir.ts';

let root: string;
let workDir: string;
let outside: string;

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tm-agent-workdir-')));
  workDir = join(root, 'work');
  outside = join(root, 'outside');
  await mkdir(join(workDir, 'sub', 'dir'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(workDir, 'file.txt'), 'not a dir');
  await symlink(outside, join(workDir, 'escape'));
  await symlink('/etc', join(workDir, 'etc-link'));
  await symlink(join(workDir, 'sub'), join(workDir, 'inside-link'));
  await symlink(join(workDir, 'gone'), join(workDir, 'dangling'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('resolveTaskDir', () => {
  it('resolves paths inside the work dir to their real directory', async () => {
    expect(await resolveTaskDir(workDir, '.')).toEqual({ ok: true, dir: workDir });
    expect(await resolveTaskDir(workDir, '')).toEqual({ ok: true, dir: workDir });
    expect(await resolveTaskDir(workDir, 'sub/dir')).toEqual({
      ok: true,
      dir: join(workDir, 'sub', 'dir'),
    });
    expect(await resolveTaskDir(workDir, 'sub/../sub/./dir/')).toEqual({
      ok: true,
      dir: join(workDir, 'sub', 'dir'),
    });
    // A symlink that stays inside is fine; the real path is what the task gets.
    expect(await resolveTaskDir(workDir, 'inside-link/dir')).toEqual({
      ok: true,
      dir: join(workDir, 'sub', 'dir'),
    });
  });

  it('rejects paths that climb out with ..', async () => {
    for (const path of ['..', '../outside', 'sub/../../outside', 'sub/dir/../../../']) {
      const resolved = await resolveTaskDir(workDir, path);
      expect(resolved).toEqual({
        ok: false,
        message: expect.stringMatching(/escapes the agent work dir/),
      });
    }
  });

  it('rejects absolute paths', async () => {
    for (const path of ['/etc', outside, '\\windows', 'C:/x']) {
      const resolved = await resolveTaskDir(workDir, path);
      expect(resolved).toEqual({
        ok: false,
        message: expect.stringMatching(/escapes the agent work dir/),
      });
    }
  });

  it('rejects symlinks that lead outside', async () => {
    for (const path of ['escape', 'etc-link', 'sub/../escape']) {
      const resolved = await resolveTaskDir(workDir, path);
      expect(resolved).toEqual({
        ok: false,
        message: expect.stringMatching(/leads outside the agent work dir/),
      });
    }
  });

  it('rejects missing paths and files', async () => {
    expect(await resolveTaskDir(workDir, 'nope')).toEqual({
      ok: false,
      message: 'path "nope" does not exist in the agent work dir',
    });
    expect(await resolveTaskDir(workDir, 'dangling')).toMatchObject({ ok: false });
    expect(await resolveTaskDir(workDir, 'file.txt')).toEqual({
      ok: false,
      message: 'path "file.txt" is not a directory',
    });
  });

  it('accepts a work dir given through a symlink', async () => {
    const linked = join(root, 'work-link');
    await symlink(workDir, linked);
    expect(await resolveTaskDir(linked, 'sub')).toEqual({ ok: true, dir: join(workDir, 'sub') });
    expect(await resolveTaskDir(linked, 'escape')).toMatchObject({ ok: false });
  });
});
