/**
 * Ids of jobs and tasks: UUIDs of version 7 (RFC 9562), a millisecond timestamp then 74 random
 * bits. They sort by creation, so the SQLite indexes keyed by them (tasks.id, the attempts' key)
 * grow at one end and retention empties them at the other, instead of touching pages all over
 * the index as random (version 4) ids do; with hundreds of thousands of live tasks that churn cost
 * a quarter of the throughput (bench:soak). 74 random bits still make them unguessable.
 */
export function timeOrderedId(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
