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
/**
 * Most bytes of JSON in one page of a view (tasks, jobs, log entries, result rows): rows are
 * added until the next would pass it (a page always holds at least one), and the page says where
 * to read on. An eighth of the 32 MiB a Worker → Durable Object call may carry.
 */
export const VIEW_BUDGET_BYTES = 4 * 1024 * 1024;
/** Most rows one page of a view holds (`limit` at most this). */
export const MAX_PAGE_ROWS = 1000;
/**
 * Largest task result, in bytes of JSON, that a view shows inline; a larger one is shown by its
 * size (`resultOmitted`) and read whole at `GET /v1/tasks/:id/result`.
 */
export const RESULT_PREVIEW_BYTES = 64 * 1024;
/**
 * Most bytes of results (JSON) the Scheduler stores for one job's tasks together. A task whose
 * result would pass it fails (`result_too_large`, not retried). One result is at most a frame.
 * An echo result equal to the job's payload is stored once, with the job, and counts nothing.
 */
export const MAX_JOB_RESULT_BYTES = 64 * 1024 * 1024;
