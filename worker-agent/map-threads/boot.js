// A map thread's entry: worker threads do not inherit the agent's tsx loader, so each registers it.
import { register } from 'tsx/esm/api';

register();
await import('./thread.ts');
