/** The agent's scratch folder for downloaded inputs: one per process, private to its user. */
import { privateScratchDir } from './private-dir.ts';

/**
 * A new folder in the OS temp dir with a random name and mode 0700 (mkdtemp), never a
 * predictable shared path (it was `/tmp/tm-agent-<pid>`, which another user could make first).
 */
export function agentTempDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return privateScratchDir(`tm-agent-${uid}-scratch-`);
}
