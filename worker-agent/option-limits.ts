/** tm-agent's option defaults and bounds, shared by the flag parser and the config file's schema. */
export const DEFAULT_CONTROL_PLANE = 'http://localhost:8080';
export const DEFAULT_KILL_GRACE_MS = 5000;
export const DEFAULT_STORE_TIMEOUT_MS = 30_000;
export const DEFAULT_CACHE_MB = 2048;
export const MAX_CACHE_MB = 16 * 1024 * 1024;
export const MIN_STORE_TIMEOUT_MS = 100;
export const MAX_STORE_TIMEOUT_MS = 600_000;
export const MAX_SLOTS = 1024;
export const MAX_KILL_GRACE_MS = 600_000;
/** The URL schemes a control plane may be given in, and the WebSocket scheme each dials. */
export const CONTROL_PLANE_SCHEMES: Readonly<Record<string, 'ws:' | 'wss:'>> = {
  'http:': 'ws:',
  'ws:': 'ws:',
  'https:': 'wss:',
  'wss:': 'wss:',
};
