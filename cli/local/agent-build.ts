/**
 * The built agent (packages/tm-agent) that the local stack, the tests and the benches run. `npm ci`
 * builds it (the root's `prepare`); ensureAgentBuilt rebuilds it when a source is newer than the
 * last build, so an edit to worker-agent/ or protocol/ never runs as an old agent.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './repo.ts';

export const agentPackageDir = join(repoRoot, 'packages', 'tm-agent');
export const agentBin = join(agentPackageDir, 'bin', 'tm-agent.js');
const buildScript = join(agentPackageDir, 'build.js');

/** Runs the package's build with --if-stale: ~0.1 s when nothing changed, a few seconds when something did. */
export function ensureAgentBuilt(): void {
  // Its messages (a rebuild, or tsc's errors) go to stderr: a command's stdout stays its own.
  execFileSync(process.execPath, [buildScript, '--if-stale'], {
    stdio: ['ignore', process.stderr, process.stderr],
  });
}
