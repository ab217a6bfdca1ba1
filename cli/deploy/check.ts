/**
 * `npm run deploy:check`: builds the production Worker as `wrangler deploy --env production` would
 * upload it (`--dry-run`: no account, no login, no network), prints its size, gzipped size and
 * what weighs most in it, and fails above the limit of bundle-size.ts or when the build fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OFFLINE_ENV } from '../local/control-plane.ts';
import { repoRoot, wranglerBin } from '../local/repo.ts';
import { bytesBySource, formatBytes, isUploaded, measure, verdict } from './bundle-size.ts';

const ENVIRONMENT = 'production';
const LARGEST_SHOWN = 8;
const BUILD_TIMEOUT_MS = 180_000;

function main(): number {
  const outdir = mkdtempSync(join(tmpdir(), 'tm-deploy-check-'));
  try {
    const metafile = join(outdir, 'bundle-meta.json');
    const args = ['deploy', '--dry-run', '--env', ENVIRONMENT, '--outdir', outdir];
    const build = spawnSync(process.execPath, [wranglerBin, ...args, '--metafile', metafile], {
      cwd: repoRoot,
      stdio: 'inherit',
      timeout: BUILD_TIMEOUT_MS,
      // The banner is what asks the npm registry for a newer wrangler: hidden, nothing goes out.
      env: { ...process.env, ...OFFLINE_ENV, WRANGLER_HIDE_BANNER: 'true' },
    });
    if (build.status !== 0) {
      const why = build.error ? build.error.message : `exit ${build.status ?? build.signal}`;
      console.error(`deploy check: \`wrangler ${args.join(' ')}\` failed (${why}); see above`);
      return 1;
    }
    const files = readdirSync(outdir)
      .filter((name) => isUploaded(name) && name !== 'bundle-meta.json')
      .map((name) => ({ name, bytes: readFileSync(join(outdir, name)) }));
    if (files.length === 0) {
      console.error(`deploy check: wrangler wrote no bundle to ${outdir}`);
      return 1;
    }
    console.log(`\nlargest parts (bytes in the bundle, before gzip):`);
    const parts = bytesBySource(JSON.parse(readFileSync(metafile, 'utf8')));
    for (const { source, bytes } of parts.slice(0, LARGEST_SHOWN))
      console.log(`  ${formatBytes(bytes).padStart(10)}  ${source}`);
    const result = verdict(measure(files));
    (result.ok ? console.log : console.error)(result.line);
    return result.ok ? 0 : 1;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

process.exitCode = main();
