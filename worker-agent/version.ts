/**
 * The agent's version: that of the nearest package.json above this file. In a checkout that is the
 * repo's; built and installed, it is the tm-agent package's (dist/ holds none of its own).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const PackageJson = z.object({ version: z.string().min(1) });

export function agentVersion(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const text = readPackageJson(dir);
    if (text !== null) return PackageJson.parse(JSON.parse(text)).version;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

function readPackageJson(dir: string): string | null {
  try {
    return readFileSync(join(dir, 'package.json'), 'utf8');
  } catch {
    return null;
  }
}
