/** Turns what the AWS SDK or a socket threw into a StorageError that names bucket, key and cause. */
import { redact } from '../../protocol/index.ts';
import { StorageError, type StorageErrorCode, type StorageErrorDetails } from './errors.ts';

/** What the call was and which strings must never reach a message. */
export interface CallContext {
  operation: string;
  bucket: string;
  key?: string;
  endpoint?: string;
  timeoutMs: number;
  secrets: readonly string[];
  /** The caller's signal: when it fired, the failure is an abort, whatever the SDK says. */
  signal?: AbortSignal;
  /** The ETag (unquoted) the job was planned on, when the call asked for that version. */
  etag?: string;
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ECONNABORTED: 'connection aborted',
  EPROTO: 'protocol error (TLS?)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed',
};

const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'Forbidden',
]);
const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);

interface Facts {
  name: string;
  code: string;
  status: number | undefined;
  message: string;
}

function facts(error: unknown): Facts {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  const metadata = record.$metadata as { httpStatusCode?: unknown } | undefined;
  const status = typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
  let code = typeof record.code === 'string' ? record.code : '';
  // Node's happy-eyeballs connect fails with an AggregateError whose parts carry the code.
  if (!code && Array.isArray(record.errors)) {
    const first = record.errors[0] as { code?: unknown } | undefined;
    if (typeof first?.code === 'string') code = first.code;
  }
  return {
    name: typeof record.name === 'string' ? record.name : '',
    code,
    status,
    message: error instanceof Error ? error.message : String(error),
  };
}

function classify(f: Facts, context: CallContext): { code: StorageErrorCode; reason: string } {
  if (context.signal?.aborted) return { code: 'aborted', reason: 'aborted by the caller' };
  // The SDK names every transient socket error TimeoutError: the socket's own code says more.
  const unreachable = UNREACHABLE[f.code];
  if (unreachable) return { code: 'unreachable', reason: unreachable };
  if (f.name === 'TimeoutError' || f.code === 'ETIMEDOUT' || f.name === 'RequestTimeout') {
    return { code: 'timeout', reason: `no answer within ${context.timeoutMs / 1000} s` };
  }
  if (f.name === 'NoSuchBucket') return { code: 'not_found', reason: 'the bucket does not exist' };
  if (MISSING.has(f.name) || f.status === 404) {
    return { code: 'not_found', reason: 'no such object' };
  }
  if (DENIED.has(f.name) || f.status === 403 || f.status === 401) {
    return {
      code: 'access_denied',
      reason: `access denied (${f.name || f.status}): check the store's credentials`,
    };
  }
  if (f.name === 'AbortError') return { code: 'aborted', reason: 'aborted' };
  // The answer to If-Match when the object's ETag is no longer the planned one.
  if (f.name === 'PreconditionFailed' || f.status === 412) {
    return { code: 'changed', reason: changedReason(undefined, context.etag) };
  }
  const what = f.status ? `HTTP ${f.status} ${f.name}` : f.name || f.code || 'error';
  return { code: 'io', reason: `${what}: ${f.message}` };
}

function changedReason(now: string | undefined, planned: string | undefined): string {
  const versions =
    now === undefined
      ? planned === undefined
        ? ''
        : ` (planned ETag ${planned})`
      : ` (ETag now ${now}, planned ${planned})`;
  return `the object changed after the job was planned${versions}; submit the job again`;
}

function location(context: CallContext): string {
  const object =
    context.key === undefined ? `s3://${context.bucket}` : `s3://${context.bucket}/${context.key}`;
  return `${object}${context.endpoint ? ` at ${context.endpoint}` : ''}`;
}

function detailsOf(
  context: CallContext,
  status: number | undefined,
  reason: string,
): StorageErrorDetails {
  return {
    operation: context.operation,
    bucket: context.bucket,
    ...(context.key === undefined ? {} : { key: context.key }),
    ...(context.endpoint === undefined ? {} : { endpoint: context.endpoint }),
    ...(status === undefined ? {} : { status }),
    ...(reason ? { reason: redact(reason, context.secrets) } : {}),
  };
}

export function describeError(error: unknown, context: CallContext): StorageError {
  if (error instanceof StorageError) return error;
  const f = facts(error);
  const { code, reason } = classify(f, context);
  const message =
    code === 'unreachable'
      ? `cannot reach object store at ${context.endpoint ?? 'the default AWS endpoint'} (bucket ${context.bucket}${
          context.key === undefined ? '' : `, key ${context.key}`
        }): ${reason}`
      : code === 'not_found' || code === 'changed'
        ? `${context.operation} ${location(context)}: ${reason}`
        : `${context.operation} ${location(context)} failed: ${reason}`;
  return new StorageError(
    code,
    redact(message, context.secrets),
    detailsOf(context, f.status, f.name || f.code),
  );
}

/** The store answered with ETag `now` where the call asked for `context.etag` (a server that ignores If-Match). */
export function objectChanged(context: CallContext, now: string): StorageError {
  const message = `${context.operation} ${location(context)}: ${changedReason(now, context.etag)}`;
  return new StorageError(
    'changed',
    redact(message, context.secrets),
    detailsOf(context, undefined, 'ETagMismatch'),
  );
}
