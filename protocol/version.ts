/**
 * Wire protocol version; an agent with another version is rejected at `hello`.
 * 2: the Scheduler opens with `challenge`; `hello` carries the agent's key and signature.
 */
export const PROTOCOL_VERSION = 2;
