/**
 * The bubblewrap command line of one task, built from what it may see: an allow-list. Pure, so
 * every mount a task gets is visible in a unit test; `sandbox.ts` gathers the inputs and spawns.
 */

/** A top-level system path shown read-only: a directory, or a symlink made again as one. */
export interface SystemPath {
  path: string;
  /** The link's target when `path` is a symlink on the host (e.g. /bin → usr/bin). */
  symlink: string | null;
}

export interface SandboxView {
  /** System dirs, read-only (/usr, /bin, /sbin, /lib*, /etc, …). */
  system: readonly SystemPath[];
  /** The agent's work dir (real path): read-write for the admin's tasks, read-only for tenants'. */
  workDir: string;
  /** The task's own writable dir: the work dir for the admin, the tenant's dir for a tenant. */
  ownDir: string;
  /** Dirs shown empty (a tmpfs over each): other tenants' dirs, the admin's scratch, secrets. */
  hiddenDirs: readonly string[];
  /** Files shown empty (/dev/null over each): the agent's key, token, TLS key, host keys. */
  hiddenFiles: readonly string[];
  /** Further paths shown read-only at the same place, e.g. executor programs. */
  readOnly: readonly string[];
  /** Further paths shown read-write at the same place: a dataflow task's outputs folder. */
  readWrite?: readonly string[];
  /** The task's working directory, inside `ownDir`. */
  cwd: string;
  /** Share the host's network (--allow-task-network); default a namespace with only loopback. */
  network: boolean;
}

/** Namespaces and limits every sandbox gets, whatever it shows. */
const ALWAYS = [
  // The agent's death takes the sandbox with it; no task outlives its agent.
  '--die-with-parent',
  // Own PIDs: the task's /proc shows its own processes only, never another task's environ.
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--unshare-cgroup-try',
  // The agent runs as root: without this the task would hold every capability, and could
  // unmount what hides the secrets or make device nodes.
  '--cap-drop',
  'ALL',
];

/** bwrap's arguments for one task, ending with `--` and the task's own argv. */
export function bwrapArgv(view: SandboxView, command: readonly string[]): string[] {
  const args = [...ALWAYS];
  if (!view.network) args.push('--unshare-net');
  for (const entry of view.system) {
    if (entry.symlink !== null) args.push('--symlink', entry.symlink, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  const shared = view.ownDir === view.workDir;
  args.push(shared ? '--bind' : '--ro-bind', view.workDir, view.workDir);
  for (const path of view.readOnly) args.push('--ro-bind', path, path);
  for (const path of view.readWrite ?? []) args.push('--bind', path, path);
  // A hidden dir that holds the task's own (the tenants' folder) is hidden before that is bound
  // into it; every other one after, so nothing bound later shows it again.
  for (const dir of view.hiddenDirs) if (contains(dir, view.ownDir)) args.push('--tmpfs', dir);
  if (!shared) args.push('--bind', view.ownDir, view.ownDir);
  for (const dir of view.hiddenDirs) if (!contains(dir, view.ownDir)) args.push('--tmpfs', dir);
  for (const file of view.hiddenFiles) args.push('--ro-bind', '/dev/null', file);
  args.push('--chdir', view.cwd, '--', ...command);
  return args;
}

/**
 * Of `paths`, those a sandbox would show: inside one of `roots`. Hiding a path nothing shows
 * would only make bwrap create it.
 */
export function visibleWithin(paths: readonly string[], roots: readonly string[]): string[] {
  return paths.filter((path) => roots.some((root) => contains(root, path)));
}

/** Whether `path` is `dir` or lies under it (both absolute and normalized). */
export function contains(dir: string, path: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}
