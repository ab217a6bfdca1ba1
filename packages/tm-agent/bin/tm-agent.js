#!/usr/bin/env node
// tm-agent: the agent, built to JavaScript (dist/; `npm run build:agent` in the repo makes it).
// `--version` prints the installed package's version, and nothing is loaded for it.
import { readFileSync } from 'node:fs';

if (process.argv[2] === '--version' && process.argv.length === 3) {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  console.log(`tm-agent ${manifest.version}`);
} else await import('../dist/worker-agent/main.js');
