/** Where the project's files are, wherever the CLI is run from. */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

export const wranglerBin = join(
  dirname(require.resolve('wrangler/package.json')),
  'bin',
  'wrangler.js',
);
/** The work dir of the local agents: holds worker/scripts/count.sh and the other examples. */
export const examplesDir = join(repoRoot, 'examples');
