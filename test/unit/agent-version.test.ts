/** The agent's version: from the nearest package.json above its code. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentVersion } from '../../worker-agent/version.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `<temp>/dist/worker-agent`, with `packageJson` written at `<temp>/package.json`. */
function installed(packageJson: string): string {
  const root = mkdtempSync(join(tmpdir(), 'tm-version-'));
  dirs.push(root);
  const code = join(root, 'dist', 'worker-agent');
  mkdirSync(code, { recursive: true });
  writeFileSync(join(root, 'package.json'), packageJson);
  return code;
}

describe('agentVersion', () => {
  it("is the repo's version in a checkout", () => {
    const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(agentVersion()).toBe(root.version);
  });

  it("is the installed package's, found above dist/", () => {
    expect(agentVersion(installed('{"name":"tm-agent","version":"1.2.3"}'))).toBe('1.2.3');
  });

  it('refuses a package.json without a version', () => {
    expect(() => agentVersion(installed('{"name":"tm-agent"}'))).toThrow(/version/);
  });
});
