/** Whole objects read a few at a time, so a step that reads many small ones waits on the store once per wave, not once per object. */
import type { CallOptions, ObjectStore } from './store.ts';

/** Most requests in flight at once (about what one S3 connection pool serves well). */
export const PARALLEL_GETS = 8;

/** The objects `keys`, in order. The first failure rejects, and no further request starts. */
export async function getMany(
  store: ObjectStore,
  keys: readonly string[],
  options: CallOptions = {},
): Promise<Uint8Array[]> {
  const objects = new Array<Uint8Array>(keys.length);
  let next = 0;
  const fetchNext = async (): Promise<void> => {
    while (next < keys.length) {
      const index = next++;
      try {
        objects[index] = await store.get(keys[index]!, undefined, options);
      } catch (error) {
        next = keys.length;
        throw error;
      }
    }
  };
  const lanes = Math.min(PARALLEL_GETS, keys.length);
  await Promise.all(Array.from({ length: lanes }, fetchNext));
  return objects;
}
