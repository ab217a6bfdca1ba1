/** Wire protocol version; an agent with another version is rejected at `hello`. */
export const PROTOCOL_VERSION = 1;
