/** Defaults of the local embedded stack: state under .tm/, port 8080, agents on 50051..50053. */
import { join } from 'node:path';
import { repoRoot } from '../local/repo.ts';

export const LOCAL_DEFAULTS = {
  stateDir: join(repoRoot, '.tm'),
  port: 8080,
  agentPorts: [50051, 50052, 50053],
  s3Port: 4568,
  publicUrl: 'http://localhost:8080',
};

/**
 * The defaults, each replaced by its variable when set: `TM_UP_STATE_DIR`, `TM_UP_PORT`,
 * `TM_UP_S3_PORT`, `TM_UP_AGENT_PORTS` (comma-separated), so a test can run `tm up` beside a
 * stack on the usual ports.
 */
export function localStackSettings(env: NodeJS.ProcessEnv) {
  const port = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined || value.trim() === '') return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535)
      throw new Error(`${name} must hold port numbers, not ${JSON.stringify(value)}`);
    return parsed;
  };
  const agentPorts = env.TM_UP_AGENT_PORTS
    ? env.TM_UP_AGENT_PORTS.split(',').map((value) => port('TM_UP_AGENT_PORTS', value, 0))
    : LOCAL_DEFAULTS.agentPorts;
  return {
    stateDir: env.TM_UP_STATE_DIR || LOCAL_DEFAULTS.stateDir,
    port: port('TM_UP_PORT', env.TM_UP_PORT, LOCAL_DEFAULTS.port),
    agentPorts,
    s3Port: port('TM_UP_S3_PORT', env.TM_UP_S3_PORT, LOCAL_DEFAULTS.s3Port),
  };
}

export const say = (line: string) => process.stdout.write(line + '\n');
