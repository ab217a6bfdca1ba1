// A map thread's entry when the agent runs from source: worker threads do not inherit its tsx
// loader, so each registers it (the built agent starts thread.js itself).
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
