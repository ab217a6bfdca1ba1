/**
 * What command and pipeline tasks run in: `bwrap`, a bubblewrap sandbox that shows each task
 * the system dirs read-only, the work dir (read-only to tenants), its own dir, a private /tmp and
 * /proc, and no network; or `none`, the agent's own view. Gathers what bwrap-argv.ts needs from
 * the host, and probes whether bwrap works here.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Isolation } from '../../protocol/index.ts';
import { bwrapArgv, contains, visibleWithin, type SystemPath } from './bwrap-argv.ts';
import { PIPELINES_DIR, TENANTS_DIR } from './tenant-dirs.ts';

export type IsolationMode = Isolation | 'auto';

export interface SandboxOptions {
  isolation: Isolation;
  /** The agent's work dir. */
  workDir: string;
  /** Give tasks the host's network (default: none but their own loopback). */
  network: boolean;
  /** The agent's own files and dirs no task may read: key, token file, cache, TLS key, … */
  secrets: readonly string[];
  /** Programs tasks may run besides the system's (executors), shown read-only. */
  programs: readonly string[];
}

/** Where a task runs: its own writable dir, and its working directory inside it. */
export interface TaskPlace {
  ownDir: string;
  cwd: string;
  /** The admin's own tasks see the work dir read-write; tenants' read-only. */
  tenant: string | null;
  /** More of the agent's folders the task sees read-only (a dataflow task's inputs). */
  readOnly?: readonly string[];
  /** The agent's folders the task alone writes (a dataflow task's outputs). */
  readWrite?: readonly string[];
}

/** System dirs a task sees read-only; the ones a host lacks are left out. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];
/** With the network shared, the resolver's files (/etc/resolv.conf may link here). */
const RESOLVER_DIRS = ['/run/systemd/resolve'];
/** Host secrets under /etc that root could read even without capabilities. */
const HOST_SECRET_FILES = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-'];
/** Secrets a local stack or wrangler may keep in a work dir that is also a checkout. */
const WORK_DIR_SECRETS = ['.tm', '.wrangler', '.dev.vars'];
const PROBE_TIMEOUT_MS = 10_000;

export class Sandbox {
  readonly isolation: Isolation;
  readonly workDir: string;
  private readonly system: SystemPath[];

  constructor(private readonly options: SandboxOptions) {
    this.isolation = options.isolation;
    this.workDir = realpathSync(options.workDir);
    const dirs = options.network ? [...SYSTEM_DIRS, ...RESOLVER_DIRS] : SYSTEM_DIRS;
    this.system = dirs.flatMap((path) => systemPath(path));
    // Made now, so even a task started before any tenant's has the tenants' folder hidden: a
    // tenant's dir made later appears under the tmpfs' mount point, not in its view.
    if (this.isolation === 'bwrap') mkdirSync(join(this.workDir, TENANTS_DIR), { recursive: true });
  }

  /** The program and arguments that run `command` for a task at `place`. */
  wrap(command: readonly string[], place: TaskPlace): [string, string[]] {
    if (this.isolation === 'none') return [command[0] ?? '', command.slice(1)];
    const shown = [
      ...this.system.filter((entry) => entry.symlink === null).map((entry) => entry.path),
      this.workDir,
    ];
    // Executors outside what is shown anyway are shown one by one, read-only.
    const programs = this.options.programs
      .filter(exists)
      .filter((program) => !shown.some((root) => contains(root, program)));
    const roots = [...shown, ...programs];
    const hidden = this.hiddenPaths(place.tenant);
    const argv = bwrapArgv(
      {
        system: this.system,
        workDir: this.workDir,
        ownDir: place.ownDir,
        hiddenDirs: visibleWithin(hidden.dirs, roots),
        hiddenFiles: visibleWithin(hidden.files, roots),
        readOnly: [...programs, ...(place.readOnly ?? [])],
        readWrite: place.readWrite ?? [],
        cwd: place.cwd,
        network: this.options.network,
      },
      command,
    );
    return ['bwrap', argv];
  }

  /** What a task of `tenant` must not see, of what exists now. */
  private hiddenPaths(tenant: string | null): { dirs: string[]; files: string[] } {
    const dirs = [join(this.workDir, TENANTS_DIR)];
    if (tenant !== null) dirs.push(join(this.workDir, PIPELINES_DIR));
    const candidates = [
      ...this.options.secrets,
      ...WORK_DIR_SECRETS.map((name) => join(this.workDir, name)),
      ...HOST_SECRET_FILES,
      ...sshHostKeys(),
    ];
    const files: string[] = [];
    for (const candidate of candidates) {
      for (const path of new Set([candidate, realOrSelf(candidate)])) {
        const info = statSync(path, { throwIfNoEntry: false });
        if (info?.isDirectory()) dirs.push(path);
        else if (info) files.push(path);
      }
    }
    return { dirs: dirs.filter(exists), files };
  }
}

/** Whether bwrap runs a task here with the namespaces tasks get; why not, if it does not. */
export function probeBwrap(network: boolean): { ok: true } | { ok: false; reason: string } {
  const workDir = mkdtempSync(join(tmpdir(), 'tm-agent-bwrap-probe-'));
  try {
    const sandbox = new Sandbox({
      isolation: 'bwrap',
      workDir,
      network,
      secrets: [],
      programs: [],
    });
    const [file, args] = sandbox.wrap(['/bin/sh', '-c', 'test -w .'], {
      ownDir: sandbox.workDir,
      cwd: sandbox.workDir,
      tenant: null,
    });
    const run = spawnSync(file, args, { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS, env: {} });
    if (run.error) return { ok: false, reason: run.error.message };
    if (run.status !== 0)
      return { ok: false, reason: (run.stderr || `exited with ${run.status}`).trim() };
    return { ok: true };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The isolation an agent runs with for `mode`; throws when bwrap is required and fails. */
export function chooseIsolation(
  mode: IsolationMode,
  probe: () => { ok: true } | { ok: false; reason: string },
): { isolation: Isolation; warning?: string } {
  if (mode === 'none') return { isolation: 'none' };
  const result = probe();
  if (result.ok) return { isolation: 'bwrap' };
  if (mode === 'bwrap')
    throw new Error(`--isolation bwrap: bubblewrap does not work here: ${result.reason}`);
  return {
    isolation: 'none',
    warning: `bubblewrap does not work here (${result.reason}): command and pipeline tasks run unsandboxed, with the agent's user and view of the machine`,
  };
}

function systemPath(path: string): SystemPath[] {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info) return [];
  if (info.isSymbolicLink()) return [{ path, symlink: readlinkSync(path) }];
  return info.isDirectory() ? [{ path, symlink: null }] : [];
}

function sshHostKeys(): string[] {
  try {
    return readdirSync('/etc/ssh')
      .filter((name) => name.startsWith('ssh_host_') && name.endsWith('_key'))
      .map((name) => join('/etc/ssh', name));
  } catch {
    return [];
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}
