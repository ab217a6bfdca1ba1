/**
 * The contract of deploy/systemd/tm-agent.service and deploy/agent.example.toml: the installed
 * binary with the config (never npx), no restart after exit 78, a drain that SIGTERM starts and
 * systemd waits for, hardening that leaves bubblewrap working, and an example config the agent
 * accepts whose paths the unit lets it write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../worker-agent/config-file.ts';
import { repoRoot } from '../../cli/local/repo.ts';

const unitText = readFileSync(join(repoRoot, 'deploy', 'systemd', 'tm-agent.service'), 'utf8');
const exampleText = readFileSync(join(repoRoot, 'deploy', 'agent.example.toml'), 'utf8');

/** The unit's `Key=value` lines by section and key, comments and blank lines left out. */
function parseUnit(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const equals = line.indexOf('=');
    if (equals < 0) throw new Error(`not a Key=value line: ${line}`);
    const key = `${section}.${line.slice(0, equals)}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(equals + 1)]);
  }
  return settings;
}

const unit = parseUnit(unitText);
const one = (key: string) => {
  const values = unit.get(`Service.${key}`) ?? [];
  expect(values, `Service.${key}`).toHaveLength(1);
  return values[0];
};

/** systemd's time span (`10min`, `90s`, `1min 30s`, a bare number is seconds) in seconds. */
function seconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, min: 60, m: 60, h: 3600 };
  let total = 0;
  for (const [, amount, unitName] of span.matchAll(/(\d+)\s*([a-z]*)/g)) {
    const factor = units[unitName ?? ''];
    if (factor === undefined) throw new Error(`unknown time unit in ${span}`);
    total += Number(amount) * factor;
  }
  return total;
}

describe('deploy/systemd/tm-agent.service', () => {
  it('runs the installed tm-agent with the config file, never npx', () => {
    expect(one('ExecStart')).toBe('/usr/bin/tm-agent --config /etc/tm/agent.toml');
    expect(unitText).not.toMatch(/npx/);
  });

  it('runs as its own user, in its state dir', () => {
    expect(one('User')).toBe('tm-agent');
    expect(unit.has('Service.DynamicUser')).toBe(false);
    expect(one('StateDirectory')?.split(/\s+/)).toContain('tm-agent');
    expect(one('WorkingDirectory')).toBe('/var/lib/tm-agent');
  });

  it('restarts on failure, except after exit 78 (a setting or key refused)', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')?.split(/\s+/)).toContain('78');
  });

  it('stops by SIGTERM to the agent alone, which drains, and waits for the drain', () => {
    expect(one('KillMode')).toBe('mixed');
    expect(unit.get('Service.KillSignal') ?? ['SIGTERM']).toEqual(['SIGTERM']);
    // At least the 10 s the drain waits for reports, past any task of a few minutes.
    expect(seconds(one('TimeoutStopSec') ?? '')).toBeGreaterThanOrEqual(5 * 60);
  });

  it('is hardened, without the options that break bubblewrap', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('ProtectHome')).toBe('yes');
    for (const breaksBwrap of [
      'RestrictNamespaces',
      'ProtectKernelTunables',
      'ProtectKernelLogs',
      'ProtectProc',
      'ProcSubset',
      'SystemCallFilter',
      'MemoryDenyWriteExecute',
      'PrivateUsers',
    ]) {
      expect(unit.has(`Service.${breaksBwrap}`), breaksBwrap).toBe(false);
    }
  });
});

describe('deploy/agent.example.toml', () => {
  const settings = parseConfigFile('/etc/tm/agent.toml', exampleText).values;

  it('is a config the agent accepts, with the token in a file of its own', () => {
    expect(settings.get('--token-file')).toBe('/etc/tm/join-token');
    expect(exampleText).not.toMatch(/^\s*token\s*=/m);
    expect(settings.get('--address')).toBeDefined();
  });

  it('puts what the agent writes where the unit lets it write', () => {
    const writable = [
      ...(one('StateDirectory') ?? '').split(/\s+/).map((dir) => `/var/lib/${dir}`),
      ...(one('CacheDirectory') ?? '').split(/\s+/).map((dir) => `/var/cache/${dir}`),
    ];
    for (const flag of ['--work-dir', '--key-file', '--cache-dir']) {
      const path = settings.get(flag) ?? '';
      expect(
        writable.some((dir) => path === dir || path.startsWith(`${dir}/`)),
        `${flag} ${path}`,
      ).toBe(true);
    }
  });
});
