// @ts-check
/**
 * The packages the tm-agent tarball bundles: its dependencies and theirs, found in the repo's
 * package-lock.json at the paths npm installed them (so the copies resolve each other as they do
 * in the repo). Each dependency of the package must be pinned to the version the repo has.
 */

/**
 * @param {{ dependencies: Record<string, string> }} pkg the package's package.json
 * @param {{ packages: Record<string, { version?: string, dependencies?: Record<string, string>, optionalDependencies?: Record<string, string> }> }} lock
 * @returns {Map<string, string>} lockfile path (node_modules/…) → version
 */
export function bundledPackages(pkg, lock) {
  for (const [name, version] of Object.entries(pkg.dependencies)) {
    const locked = lock.packages[`node_modules/${name}`]?.version;
    if (locked !== version) {
      throw new Error(`tm-agent pins ${name} ${version}, the repo's lockfile has ${locked}`);
    }
  }
  /** @type {Map<string, string>} */
  const found = new Map();
  /** @type {Array<{ from: string, name: string, optional: boolean }>} */
  const wanted = Object.keys(pkg.dependencies).map((name) => ({ from: '', name, optional: false }));
  for (let next = wanted.pop(); next; next = wanted.pop()) {
    const at = locate(lock.packages, next.from, next.name);
    if (at === undefined) {
      if (next.optional) continue;
      throw new Error(
        `${next.name} (for ${next.from || 'tm-agent'}) is not in the repo's lockfile`,
      );
    }
    if (found.has(at)) continue;
    const entry = lock.packages[at] ?? {};
    found.set(at, entry.version ?? '');
    for (const name of Object.keys(entry.dependencies ?? {})) {
      wanted.push({ from: at, name, optional: false });
    }
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      wanted.push({ from: at, name, optional: true });
    }
  }
  return found;
}

/**
 * Where Node finds `name` from the package at `from`: its own node_modules, then each enclosing one.
 * @param {Record<string, unknown>} packages @param {string} from @param {string} name
 */
function locate(packages, from, name) {
  for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
    const at = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (at in packages) return at;
    if (dir === '') return undefined;
  }
}
