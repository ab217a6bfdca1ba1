/** Size and count limits shared by the control plane, the Durable Object and the agent. */

/** Largest HTTP request body the API accepts (413 above it). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Largest WebSocket frame either side accepts. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Most tasks one job may create. */
export const MAX_TASKS_PER_JOB = 100_000;
/** Default bound on stored output per task; configurable with TM_LOG_LIMIT_BYTES. */
export const DEFAULT_LOG_LIMIT_BYTES = 1024 * 1024;
/** Most log chunks in one `log` frame, and the largest chunk. */
export const MAX_LOG_CHUNKS_PER_FRAME = 256;
export const MAX_LOG_CHUNK_BYTES = 64 * 1024;
/** Most tasks in one `assign`, `complete`, `fail` or `cancel` frame. */
export const MAX_TASKS_PER_FRAME = 1000;
