/** Size and count limits shared by the control plane, the Durable Object and the agent. */

/** Largest HTTP request body the API accepts (413 above it). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Largest WebSocket frame either side accepts. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/**
 * Largest task spec, in UTF-8 bytes of JSON as the Scheduler stores and frames it (numbers
 * written out): half a frame, so that one assignment with its ids, the store access and
 * inline partials the Scheduler adds, and the frame's envelope always fits in one `assign`.
 * A job whose spec is larger is refused at submit (400 `spec_too_large`).
 */
export const MAX_SPEC_BYTES = MAX_FRAME_BYTES / 2;
/**
 * What the agent's socket reads before it gives up on a message (and the socket, 1009): frames
 * between MAX_FRAME_BYTES and this are refused one by one (their tasks fail), not the socket.
 */
export const MAX_WIRE_MESSAGE_BYTES = 8 * MAX_FRAME_BYTES;
/** Most tasks one job may create. */
export const MAX_TASKS_PER_JOB = 100_000;
/** Default bound on stored output per task; configurable with TM_LOG_LIMIT_BYTES. */
export const DEFAULT_LOG_LIMIT_BYTES = 1024 * 1024;
/** Most log chunks in one `log` frame, and the largest chunk. */
export const MAX_LOG_CHUNKS_PER_FRAME = 256;
export const MAX_LOG_CHUNK_BYTES = 64 * 1024;
/** Most tasks in one `assign`, `complete`, `fail` or `cancel` frame. */
export const MAX_TASKS_PER_FRAME = 1000;
