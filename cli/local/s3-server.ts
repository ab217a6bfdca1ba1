/** The loopback S3 server (s3rver) as a child process in its own process group, with its buckets ready. */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { StoreAccess } from '../../protocol/object-stores.ts';
import { startChild } from './child.ts';
import { freePort, waitForHttp, waitForTcp } from './ports.ts';
import { repoRoot } from './repo.ts';

/** s3rver's built-in account: requests signed with any other access key id are rejected. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface S3ServerOptions {
  /** Holds the buckets and objects (created if missing; existing data is kept). */
  dir: string;
  /** Loopback port; default: a free one. */
  port?: number;
  /** Buckets created at start (idempotent). */
  buckets: string[];
  /** Where s3rver's output goes; default `<dir>/s3rver.log` (s3rver ignores files in its dir). */
  logFile?: string;
  /** How long to wait for it to answer (default 30 s). */
  startTimeoutMs?: number;
}

export interface S3Server {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const s3rverBin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
const s3Gate = join(repoRoot, 'cli', 'local', 's3-gate.cjs');

export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  if (options.buckets.length === 0) throw new Error('startS3Server needs at least one bucket');
  mkdirSync(options.dir, { recursive: true });
  const logFile = options.logFile ?? join(options.dir, 's3rver.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const port = options.port ?? (await freePort());
  const args = [
    // s3rver does not start on Node 17+ (OpenSSL 3) without the legacy provider.
    '--openssl-legacy-provider',
    // Verifies presigned URLs' signatures, which s3rver does not (see s3-gate.cjs).
    '--require',
    s3Gate,
    s3rverBin,
    '-d',
    options.dir,
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '--silent',
    ...options.buckets.flatMap((bucket) => ['--configure-bucket', bucket]),
  ];
  const child = startChild(process.execPath, args, { cwd: repoRoot, env: process.env, logFile });
  const endpoint = `http://127.0.0.1:${port}`;
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  try {
    await Promise.race([
      waitForTcp(port, timeoutMs),
      child.exited.then((code) => Promise.reject(new Error(`s3rver exited with code ${code}`))),
    ]);
    // Buckets are configured after the socket opens: an unsigned GET lists a bucket once it exists.
    for (const bucket of options.buckets)
      await waitForHttp(`${endpoint}/${bucket}`, timeoutMs, child.alive);
  } catch (error) {
    await child.stop(1000);
    throw new Error(`the S3 server did not start (see ${logFile}): ${(error as Error).message}`);
  }
  return { endpoint, port, stop: () => child.stop(3000) };
}

/** How agents and tests reach a bucket of the loopback server. */
export function localStoreAccess(endpoint: string, bucket: string): StoreAccess {
  return {
    bucket,
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...LOCAL_S3_CREDENTIALS },
  };
}
