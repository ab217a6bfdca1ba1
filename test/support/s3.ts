/** A real loopback S3 server (s3rver) for tests: free port, temp dir, bucket `test-bucket`. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreAccess } from '../../protocol/object-stores.ts';
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
