/**
 * Wire protocol version; an agent with another version is rejected at `hello`.
 * 2: the Scheduler opens with `challenge`; `hello` carries the agent's key and signature.
 * 3: `hello` says the agent's isolation; assignments carry their tenant, and aggregation steps
 *    presigned URLs instead of store credentials; `approved` tells a pending agent it may work.
 */
export const PROTOCOL_VERSION = 3;
