/** What a presigned URL's fetch answered, as a StorageError; and a body read with an idle limit. */
import { describeError, type CallContext } from './describe-error.ts';

/** Why a call failed: the store's last answer, or what fetch threw. */
export type FetchFailure = { status: number; body: string } | { error: unknown; timedOut: boolean };

/** undici's names for a socket the other side closed or reset. */
const SOCKET_CODES: Record<string, string> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CLOSED: 'ECONNRESET',
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
};

/** `<Code>NoSuchKey</Code>` and `<Message>…</Message>` of an S3 error body. */
function s3Error(body: string): { code?: string; message?: string } {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
}

/** The failure in the SDK's shape (name, code, $metadata), so describeError words it the same way. */
export function errorFrom(failure: FetchFailure, ctx: CallContext) {
  if ('status' in failure) {
    const { code, message } = s3Error(failure.body);
    const name =
      code ??
      (failure.status === 404
        ? 'NotFound'
        : failure.status === 412
          ? 'PreconditionFailed'
          : failure.status === 403
            ? 'Forbidden'
            : '');
    return describeError(
      {
        name,
        $metadata: { httpStatusCode: failure.status },
        message: message ?? `HTTP ${failure.status}`,
      },
      ctx,
    );
  }
  if (failure.timedOut) return describeError({ name: 'TimeoutError', message: 'timeout' }, ctx);
  const cause = (failure.error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const raw = typeof cause?.code === 'string' ? cause.code : '';
  const code = SOCKET_CODES[raw] ?? raw;
  if (code === 'ETIMEDOUT') return describeError({ name: 'TimeoutError', message: 'timeout' }, ctx);
  const message = typeof cause?.message === 'string' ? cause.message : String(failure.error);
  return describeError(code ? { name: 'Error', code, message } : failure.error, ctx);
}

/** A body's chunks, failing with a timeout after `idleMs` without one. */
export async function* readBody(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
          idleMs,
        );
      });
      const next = await Promise.race([reader.read(), idle]);
      clearTimeout(timer);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}
