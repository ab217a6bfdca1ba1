/** Puts the demo's sample sales data into the local store once (skipped when it is already there). */
import type { TmClient } from '../sdk/client.ts';
import { salesTable, toParquet } from './sample-data.ts';
import { localStoreAccess } from './s3-server.ts';
import { LOCAL_BUCKET } from './stack.ts';

export const SAMPLE_PREFIX = 'samples/sales/';

/** Writes `files` Parquet files of `rowsPerFile` rows under samples/sales/ unless they exist. */
export async function ensureSampleData(
  client: TmClient,
  endpoint: string,
  options: { files: number; rowsPerFile: number; log: (line: string) => void },
): Promise<number> {
  const existing = await client.listObjects(LOCAL_BUCKET, SAMPLE_PREFIX);
  if (existing.objects.length >= options.files)
    return existing.objects.length * options.rowsPerFile;
  // The AWS SDK is loaded here only, not at every start of `tm`: only this upload needs it.
  const { createObjectStore } = await import('../../worker-agent/storage/object-store.ts');
  const store = createObjectStore(localStoreAccess(endpoint, LOCAL_BUCKET));
  try {
    for (let file = 0; file < options.files; file++) {
      const key = `${SAMPLE_PREFIX}part-${String(file).padStart(3, '0')}.parquet`;
      const bytes = toParquet(salesTable(file + 1, options.rowsPerFile));
      await store.put(key, bytes, 'application/vnd.apache.parquet');
      options.log(`   wrote ${key} (${(bytes.length / 1e6).toFixed(1)} MB)`);
    }
  } finally {
    store.close();
  }
  return options.files * options.rowsPerFile;
}
