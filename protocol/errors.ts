/** The one error shape of the HTTP API and of Durable Object RPC outcomes. */
import { z } from 'zod';

export const ErrorCode = z.enum([
  'bad_request',
  'invalid_json',
  /** JSON nested deeper than MAX_JSON_DEPTH (400). */
  'json_too_deep',
  /** A job's spec, re-encoded as stored and framed, is over MAX_SPEC_BYTES (400). */
  'spec_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  /** The job ended and was deleted by retention (404); see docs/storage.md. */
  'job_removed',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'store_unavailable',
  'auth_not_configured',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** What a failed operation reports: an HTTP status plus the error body's fields. */
export interface Failure {
  status: 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 502 | 503;
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** Result of a Durable Object RPC call: thrown errors lose their fields across RPC, outcomes do not. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Failure };

/** The refusal of a client locked out for sending wrong tokens, for `remainingMs` more. */
export function lockedOutFailure(remainingMs: number): Failure {
  const retryAfterSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return {
    status: 429,
    code: 'rate_limited',
    message: `too many requests with a wrong token from this client; retry in ${retryAfterSeconds} s`,
    details: { retryAfterSeconds },
  };
}
