/** The Scheduler's SigV4 URL signer: AWS's published example, and the SDK's own signer on the same requests. */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import type { StoreAccess } from '../../protocol/index.ts';
import { objectLocation, presignUrl } from '../../durable-objects/storage/presign.ts';

/**
 * The example credentials of AWS's SigV4 documentation ("Authenticating Requests: Using Query
 * Parameters"), which are no account's: its published signature is computed with exactly these.
 */
const AWS_EXAMPLE: StoreAccess = {
  bucket: 'examplebucket',
  endpoint: 'https://s3.amazonaws.com',
  region: 'us-east-1',
  forcePathStyle: false,
  credentials: {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  },
};

/** The SDK's sha256 interface on node:crypto. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (data: SourceData): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data)
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

async function sdkPresign(
  store: StoreAccess,
  method: string,
  key: string,
  expires: number,
  now: Date,
): Promise<string> {
  const { origin, host, path } = objectLocation(store, key);
  const url = new URL(origin);
  const signer = new SignatureV4({
    credentials: store.credentials!,
    region: store.region,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.presign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path,
      query: {},
      // As @aws-sdk/s3-request-presigner does: S3 URLs sign no payload.
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    {
      expiresIn: expires,
      signingDate: now,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([name, value]) => [name, String(value)])
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
  return `${origin}${path}?${query.map(([n, v]) => `${n}=${encodeURIComponent(v!)}`).join('&')}`;
}

const params = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe('presignUrl', () => {
  it("gives AWS's documented signature for its example GET", () => {
    const url = presignUrl(AWS_EXAMPLE, 'GET', 'test.txt', 86400, new Date('2013-05-24T00:00:00Z'));
    expect(url.startsWith('https://examplebucket.s3.amazonaws.com/test.txt?')).toBe(true);
    expect(params(url)).toEqual({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20130524T000000Z',
      'X-Amz-Expires': '86400',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    });
  });

  const loopback: StoreAccess = {
    bucket: 'test-bucket',
    endpoint: 'http://127.0.0.1:4568',
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', sessionToken: 'tok/en+=' },
  };
  it.each([
    ['GET', 'plain/key.parquet', loopback],
    ['PUT', "odd keys/with spaces+plus/ü & (parens)*!'.arrow", loopback],
    ['PUT', 'map/t1/attempt-2/part-3.arrow', { ...AWS_EXAMPLE, region: 'eu-west-1' }],
    ['GET', 'a/../b', { ...loopback, forcePathStyle: false, endpoint: 'https://r2.example' }],
  ] as const)('matches the SDK signer: %s %s', async (method, key, store) => {
    const now = new Date('2026-12-07T01:02:03Z');
    const ours = presignUrl(store, method, key, 900, now);
    const theirs = await sdkPresign(store, method, key, 900, now);
    expect(params(ours)).toEqual(params(theirs));
    expect(ours.split('?')[0]).toBe(theirs.split('?')[0]);
  });

  it('signs for R2 as `tm object-stores add --endpoint` registers it: path-style, region auto', async () => {
    // The registration's defaults with an endpoint (durable-objects/object-stores.ts); made-up keys.
    const r2: StoreAccess = {
      bucket: 'tm-data',
      endpoint: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com',
      region: 'auto',
      forcePathStyle: true,
      credentials: { accessKeyId: 'R2-EXAMPLE-KEY-ID', secretAccessKey: 'r2-example-secret' },
    };
    const now = new Date('2026-12-07T01:02:03Z');
    const ours = presignUrl(r2, 'PUT', 'results/job 1/part-0.arrow', 900, now);
    expect(ours.split('?')[0]).toBe(
      'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com/tm-data/results/job%201/part-0.arrow',
    );
    expect(params(ours)['X-Amz-Credential']).toBe(
      'R2-EXAMPLE-KEY-ID/20261207/auto/s3/aws4_request',
    );
    expect(params(ours)).toEqual(
      params(await sdkPresign(r2, 'PUT', 'results/job 1/part-0.arrow', 900, now)),
    );
  });

  it("the SDK signer, as called here, gives AWS's example too", async () => {
    const now = new Date('2013-05-24T00:00:00Z');
    const url = await sdkPresign(AWS_EXAMPLE, 'GET', 'test.txt', 86400, now);
    expect(params(url)['X-Amz-Signature']).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });
  it('bounds the expiry to 1 s .. 7 days and leaves a store without keys unsigned', () => {
    const now = new Date();
    expect(params(presignUrl(AWS_EXAMPLE, 'GET', 'k', 1e9, now))['X-Amz-Expires']).toBe('604800');
    expect(params(presignUrl(AWS_EXAMPLE, 'GET', 'k', 0, now))['X-Amz-Expires']).toBe('1');
    const { credentials: _, ...open } = AWS_EXAMPLE;
    expect(presignUrl(open, 'GET', 'a b', 60, now)).toBe(
      'https://examplebucket.s3.amazonaws.com/a%20b',
    );
  });
});
