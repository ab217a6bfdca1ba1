/** Builds the AWS SDK client for one StoreAccess: path style, checksums only when required, timeouts. */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { StoreAccess } from '../../protocol/object-stores.ts';

export interface ClientTimeouts {
  /** TCP connect limit per attempt. */
  connectMs: number;
  /** Limit on waiting for an answer and on any silence while a body streams. */
  idleMs: number;
}

/** Connects give up after min(3 s, the idle limit). */
export function clientTimeouts(idleMs: number): ClientTimeouts {
  return { connectMs: Math.min(3_000, idleMs), idleMs };
}

/** Requests without credentials go out unsigned (public buckets); no credential chain is searched. */
const unsigned: S3ClientConfig['signer'] = { sign: (request) => Promise.resolve(request) };

export function createS3Client(access: StoreAccess, timeouts: ClientTimeouts): S3Client {
  return new S3Client({
    region: access.region,
    forcePathStyle: access.forcePathStyle,
    ...(access.endpoint ? { endpoint: access.endpoint } : {}),
    ...(access.credentials
      ? { credentials: access.credentials }
      : { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: unsigned }),
    // Without these the SDK streams uploads as aws-chunked with trailing checksums, which
    // S3-compatible servers (s3rver, some R2 paths) store corrupted.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.idleMs,
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.idleMs,
    },
  });
}
