#!/usr/bin/env node
// tm-agent: the agent, built to JavaScript (dist/; `npm run build:agent` in the repo makes it).
import '../dist/worker-agent/main.js';
