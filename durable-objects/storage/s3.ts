/** S3/R2 calls the Scheduler makes itself (listing inputs, reading results); errors never carry secrets. */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { unquoteEtag, type ObjectEntry, type ObjectPage } from '../../protocol/index.ts';
import { toStoreAccess } from '../object-stores.ts';
import { type StoreRow } from '../db/object-stores.ts';

const TIMEOUT_MS = 10_000;

/** A store that could not be read: the message names the store and the reason, never credentials. */
export class StoreError extends Error {}

function client(row: StoreRow): S3Client {
  const access = toStoreAccess(row);
  return new S3Client({
    region: access.region,
    forcePathStyle: access.forcePathStyle,
    ...(access.endpoint ? { endpoint: access.endpoint } : {}),
    credentials: access.credentials ?? { accessKeyId: 'anonymous', secretAccessKey: 'anonymous' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
}

function describe(row: StoreRow, error: unknown, key?: string): StoreError {
  const where = `${row.url}${key ? ` (object ${key})` : ''}${row.endpoint ? ` at ${row.endpoint}` : ''}`;
  const name = error instanceof Error ? error.name : '';
  const reason =
    name === 'TimeoutError' || name === 'AbortError'
      ? `no answer within ${TIMEOUT_MS / 1000} s`
      : name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied'
        ? `access denied (${name}): check the store's credentials`
        : name === 'NoSuchBucket'
          ? `bucket ${row.bucket} does not exist`
          : name === 'NotFound' || name === 'NoSuchKey'
            ? 'not found'
            : `cannot reach the store (${name || 'network error'})`;
  return new StoreError(`object store ${row.name}: ${where}: ${reason}`);
}

async function call<T>(
  row: StoreRow,
  key: string | undefined,
  body: (s3: S3Client, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const s3 = client(row);
  try {
    return await body(s3, AbortSignal.timeout(TIMEOUT_MS));
  } catch (error) {
    if (error instanceof ObjectTooLargeError) throw error;
    throw describe(row, error, key);
  } finally {
    s3.destroy();
  }
}

/**
 * One page of objects under `prefix` (relative to the store's own prefix), from `cursor`, or else
 * from the first key after the full key `startAfter`.
 */
export function listPage(
  row: StoreRow,
  prefix: string,
  cursor: string | undefined,
  limit: number,
  startAfter?: string,
): Promise<ObjectPage> {
  return call(row, undefined, async (s3, abortSignal) => {
    const reply = await s3.send(
      new ListObjectsV2Command({
        Bucket: row.bucket,
        Prefix: row.prefix + prefix,
        ContinuationToken: cursor,
        ...(cursor === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
        MaxKeys: limit,
      }),
      { abortSignal },
    );
    const objects: ObjectEntry[] = (reply.Contents ?? []).map((object) => ({
      key: object.Key ?? '',
      size: object.Size ?? 0,
      lastModified: object.LastModified ? object.LastModified.toISOString() : null,
      etag: object.ETag ? unquoteEtag(object.ETag) : null,
    }));
    return { objects, next: reply.IsTruncated ? (reply.NextContinuationToken ?? null) : null };
  });
}

/** A whole listing, as far as its caller asked. */
export interface Listing {
  objects: ObjectEntry[];
  /** There were more than `max` objects (only the first `max` are here). */
  more: boolean;
}

export interface ListOptions {
  /** Objects wanted at most. */
  max: number;
  /**
   * The folder of a key whose objects the caller does not want, or null: they are left out, and a
   * page that ends inside such a folder goes on from past it instead of listing the rest.
   */
  skipFolder?: (key: string) => string | null;
  pageSize?: number;
}

/** Every object under `prefix`, up to `max` (planning reads whole listings). */
export async function listAll(
  row: StoreRow,
  prefix: string,
  { max, skipFolder = () => null, pageSize = 1000 }: ListOptions,
): Promise<Listing> {
  const objects: ObjectEntry[] = [];
  let cursor: string | undefined;
  let startAfter: string | undefined;
  // The last jump: never taken twice, as the keys sorted past it (see pastFolder) go on by page.
  let jumped: string | undefined;
  for (;;) {
    const page = await listPage(row, prefix, cursor, pageSize, startAfter);
    for (const object of page.objects) if (skipFolder(object.key) === null) objects.push(object);
    if (page.next === null || objects.length > max) break;
    const folder = skipFolder(page.objects.at(-1)?.key ?? '');
    const jump = folder === null ? undefined : pastFolder(folder);
    if (jump !== undefined && jump !== jumped)
      [cursor, startAfter, jumped] = [undefined, jump, jump];
    else [cursor, startAfter] = [page.next, undefined];
  }
  return { objects: objects.slice(0, max), more: objects.length > max };
}

/**
 * A start-after key past every key in `folder`: the folder then the highest code point. Only keys
 * inside it that go on with that very code point sort after it; `listAll` still leaves those out.
 */
const pastFolder = (folder: string) => `${folder}\u{10FFFF}`;

/** Size of one object by its full key. */
export function headObject(row: StoreRow, key: string): Promise<ObjectEntry> {
  return call(row, key, async (s3, abortSignal) => {
    const reply = await s3.send(new HeadObjectCommand({ Bucket: row.bucket, Key: key }), {
      abortSignal,
    });
    return {
      key,
      size: reply.ContentLength ?? 0,
      lastModified: reply.LastModified?.toISOString() ?? null,
      etag: reply.ETag ? unquoteEtag(reply.ETag) : null,
    };
  });
}

/** An object larger than its reader allows: never read whole (see getObjectBounded). */
export class ObjectTooLargeError extends Error {
  constructor(
    readonly key: string,
    /** Its size as the store said, or null when it only showed by going past the limit. */
    readonly size: number | null,
    readonly limit: number,
  ) {
    super(`object ${key} is ${size ?? 'more than ' + limit} bytes; at most ${limit} are read`);
  }
}

/**
 * The object by its full key, if it has at most `maxBytes`: its size is checked from the reply's
 * headers before any of the body is read (a larger one's body is cancelled unread), and the read
 * stops past `maxBytes` should the store not say, so memory never holds more than that. (Not a
 * Range request: the loopback S3 server never answers one for an empty object.)
 */
export function getObjectBounded(
  row: StoreRow,
  key: string,
  maxBytes: number,
): Promise<Uint8Array> {
  return call(row, key, async (s3, abortSignal) => {
    const reply = await s3.send(new GetObjectCommand({ Bucket: row.bucket, Key: key }), {
      abortSignal,
    });
    if (!reply.Body) throw new StoreError(`object store ${row.name}: object ${key} has no body`);
    const stream = reply.Body.transformToWebStream();
    const total = reply.ContentLength ?? NaN;
    if (Number.isFinite(total) && total > maxBytes) {
      await stream.cancel();
      throw new ObjectTooLargeError(key, total, maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new ObjectTooLargeError(key, null, maxBytes);
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return bytes;
  });
}

/**
 * Deletes up to `max` objects under the full key `prefix` that `mine` accepts (by the key after
 * the prefix); returns how many it deleted and whether the listing went on past them.
 */
export function deleteUnder(
  row: StoreRow,
  prefix: string,
  mine: (rest: string) => boolean,
  max: number,
): Promise<{ deleted: number; more: boolean }> {
  return call(row, prefix, async (s3, abortSignal) => {
    let deleted = 0;
    let cursor: string | undefined;
    do {
      const reply = await s3.send(
        new ListObjectsV2Command({ Bucket: row.bucket, Prefix: prefix, ContinuationToken: cursor }),
        { abortSignal },
      );
      const keys = (reply.Contents ?? [])
        .map((object) => object.Key ?? '')
        .filter((key) => mine(key.slice(prefix.length)));
      const room = keys.slice(0, max - deleted);
      // One request per listing page (S3 deletes up to 1,000 keys at once), not one per object.
      if (room.length > 0) {
        const reply = await s3.send(
          new DeleteObjectsCommand({
            Bucket: row.bucket,
            Delete: { Objects: room.map((Key) => ({ Key })), Quiet: true },
          }),
          { abortSignal },
        );
        const failed = reply.Errors ?? [];
        if (failed.length > 0)
          throw new Error(`${failed.length} objects were not deleted (${failed[0]?.Code ?? '?'})`);
      }
      deleted += room.length;
      if (room.length < keys.length) return { deleted, more: true };
      cursor = reply.IsTruncated ? reply.NextContinuationToken : undefined;
    } while (cursor);
    return { deleted, more: false };
  });
}
