/** A read-only object store over bytes in memory, for benchmarks that time decoding without I/O. */
import type { ObjectStore } from '../../worker-agent/storage/index.ts';

const readOnly = (): never => {
  throw new Error('the memory store only reads');
};

/** Serves `objects` (key → bytes) to get and head; everything else throws. */
export function memoryStore(objects: ReadonlyMap<string, Uint8Array>): ObjectStore {
  const bytesOf = (key: string): Uint8Array => {
    const bytes = objects.get(key);
    if (!bytes) throw new Error(`no object ${key}`);
    return bytes;
  };
  return {
    bucket: 'memory',
    endpoint: undefined,
    get: async (key, range) => {
      const bytes = bytesOf(key);
      return range ? bytes.subarray(range.start, range.end) : bytes;
    },
    head: async (key) => ({ size: bytesOf(key).length }),
    getStream: readOnly,
    download: readOnly,
    put: readOnly,
    list: readOnly,
    delete: readOnly,
    close: () => undefined,
  };
}
