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

export const say = (line: string) => process.stdout.write(line + '\n');
