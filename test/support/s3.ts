/** A real loopback S3 server (s3rver) for tests: free port, temp dir, bucket `test-bucket`. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { StoreAccess } from '../../protocol/object-stores.ts';
import { StorageError, type ObjectStore } from '../../worker-agent/storage/index.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import { localStoreAccess, startS3Server, type S3Server } from '../../cli/local/s3-server.ts';

export const TEST_BUCKET = 'test-bucket';

export interface TestS3 {
  server: S3Server;
  endpoint: string;
  access: StoreAccess;
  /** Scratch space beside the server's data (temp files, downloads); removed by cleanup. */
  tempDir: string;
  /** Stops the server and removes its data and the scratch space. */
  cleanup(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const root = await mkdtemp(join(tmpdir(), 'tm-s3-'));
  let server: S3Server;
  try {
    server = await startS3Server({
      dir: join(root, 'data'),
      buckets: [TEST_BUCKET],
      logFile: join(root, 's3rver.log'),
    });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const tempDir = join(root, 'tmp');
  await mkdir(tempDir);
  return {
    server,
    endpoint: server.endpoint,
    access: localStoreAccess(server.endpoint, TEST_BUCKET),
    tempDir,
    async cleanup() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A loopback S3 and the agent's ObjectStore on it, for a test file's beforeAll. */
export async function openTestStore(): Promise<{ s3: TestS3; store: ObjectStore }> {
  const s3 = await startTestS3();
  return { s3, store: createObjectStore(s3.access) };
}

/** Closes what openTestStore opened (none of it when it failed). */
export async function closeTestStore(opened: { s3?: TestS3; store?: ObjectStore }): Promise<void> {
  opened.store?.close();
  await opened.s3?.cleanup();
}

/** The StorageError `promise` rejects with; the test fails when it resolves or throws another. */
export async function storageRejection(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}
