// @ts-check
/**
 * Builds the tm-agent package in place: dist/ and node_modules/.
 * - dist/: tsc emits worker-agent/ and the protocol/ it imports as JavaScript (types are checked by
 *   `npm run typecheck`, not here), and the files tsc does not emit are copied beside them: the
 *   WebAssembly kernels and the plain-JS Parquet decoder thread.
 * - node_modules/: the runtime dependencies, copied from the repo's node_modules (see
 *   dependencies.js); the tarball bundles them.
 * It fails if the package's version is not the repo's.
 *
 * `node build.js` builds; `node build.js --if-stale` builds only when a source is newer than the
 * last build (the local stack and the e2e tests call it so they never run an old agent).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledPackages } from './dependencies.js';

const packageDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(packageDir, '..', '..');
const dist = join(packageDir, 'dist');
/** Written last into dist/: its time is the build's. */
const stamp = join(dist, '.built');
const sourceDirs = ['worker-agent', 'protocol'].map((dir) => join(repoRoot, dir));
const buildFiles = [
  join(repoRoot, 'tsconfig.base.json'),
  join(repoRoot, 'package-lock.json'),
  ...['tsconfig.json', 'package.json', 'build.js', 'dependencies.js'].map((file) =>
    join(packageDir, file),
  ),
];
/** Loaded at run time by URL, beside the modules that load them. */
const isAsset = (/** @type {string} */ file) =>
  file.endsWith('.wasm') || file.endsWith('/aggregate/readers/parquet-worker.js');

/** @param {string} dir @returns {string[]} */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : [];
  });
}

/** @param {string} file */
const modified = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -Infinity;

/** @param {string} file */
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

function isStale() {
  const built = modified(stamp);
  return [...sourceDirs.flatMap(filesUnder), ...buildFiles].some((file) => modified(file) > built);
}

/**
 * Fills a fresh directory and then swaps it in for `dir`, so an agent starting meanwhile sees a
 * whole build.
 * @param {string} dir @param {(next: string) => void} fill
 */
function replaceDir(dir, fill) {
  const next = `${dir}.${process.pid}`;
  const old = `${dir}.${process.pid}.old`;
  rmSync(next, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
  fill(next);
  if (statSync(dir, { throwIfNoEntry: false })) renameSync(dir, old);
  renameSync(next, dir);
  rmSync(old, { recursive: true, force: true });
}

/** @param {string} out */
function compile(out) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const tsconfig = join(packageDir, 'tsconfig.json');
  execFileSync(process.execPath, [tsc, '-p', tsconfig, '--noCheck', '--outDir', out], {
    stdio: 'inherit',
  });
  for (const file of sourceDirs.flatMap(filesUnder).filter(isAsset)) {
    const target = join(out, relative(repoRoot, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
  writeFileSync(join(out, '.built'), '');
}

/** @param {Map<string, string>} packages @param {string} out */
function copyDependencies(packages, out) {
  for (const [path, version] of packages) {
    const from = join(repoRoot, path);
    const installed = readJson(join(from, 'package.json')).version;
    if (installed !== version) {
      throw new Error(`${path} is ${installed}, the lockfile says ${version}: run npm ci`);
    }
    // A package's own node_modules holds other entries of the lockfile, copied on their own.
    const nested = join(from, 'node_modules');
    cpSync(from, join(out, relative('node_modules', path)), {
      recursive: true,
      filter: (file) => file !== nested,
    });
  }
}

function build() {
  const pkg = readJson(join(packageDir, 'package.json'));
  const { version } = readJson(join(repoRoot, 'package.json'));
  if (pkg.version !== version) {
    throw new Error(`tm-agent's version ${pkg.version} is not the repo's ${version}`);
  }
  const packages = bundledPackages(pkg, readJson(join(repoRoot, 'package-lock.json')));
  replaceDir(join(packageDir, 'node_modules'), (out) => copyDependencies(packages, out));
  replaceDir(dist, compile);
}

if (!process.argv.includes('--if-stale') || isStale()) {
  build();
  process.stdout.write(`tm-agent: built ${relative(process.cwd(), dist) || '.'}\n`);
}
