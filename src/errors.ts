/** The one error type at the HTTP edge, and the one place that renders it. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody, Failure, Outcome } from '../protocol/index.ts';
import { controlPlaneLogs, type LogEnv } from '../protocol/control-plane-log.ts';

const RETRY_AFTER_SECONDS = 5;

export class ApiError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError({ status: 400, code: 'bad_request', message, details });

export const forbidden = (message: string) =>
  new ApiError({ status: 403, code: 'forbidden', message });

/** Returns an outcome's value, or raises its failure as an ApiError. */
export function unwrap<T>(result: Outcome<T>): T {
  if (!result.ok) throw new ApiError(result.error);
  return result.value;
}

export function errorResponse(c: Context, failure: Failure): Response {
  const body: ErrorBody = {
    error: {
      code: failure.code,
      message: failure.message,
      ...(failure.details === undefined ? {} : { details: failure.details }),
    },
  };
  // Clients that back off on 429 need to know for how long.
  if (failure.status === 429) c.header('Retry-After', String(retryAfter(failure.details)));
  return c.json(body, failure.status as ContentfulStatusCode);
}

function retryAfter(details: unknown): number {
  const seconds = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds : RETRY_AFTER_SECONDS;
}

export function onError<E extends { Bindings: LogEnv }>(error: Error, c: Context<E>): Response {
  if (error instanceof ApiError) return errorResponse(c, error.failure);
  controlPlaneLogs(c.env)('api').error('unhandled error', {
    path: c.req.path,
    error: error.message,
  });
  return errorResponse(c, { status: 500, code: 'internal', message: 'internal error' });
}
