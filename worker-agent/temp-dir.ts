/** The agent's scratch folder for downloaded inputs: one per process, under the OS temp dir. */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function agentTempDir(): string {
  const dir = join(tmpdir(), `tm-agent-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
