#!/usr/bin/env node
// tm-agent: runs the TypeScript agent directly; tsx compiles it as it loads.
import { register } from 'tsx/esm/api';

register();
await import('../main.ts');
