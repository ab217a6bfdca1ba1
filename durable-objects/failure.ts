/** Typed failures raised inside the Scheduler and turned into RPC outcomes at its edge. */
import type { Failure, Outcome } from '../protocol/index.ts';

export class SchedulerError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

export const notFound = (what: string, id: string) =>
  new SchedulerError({ status: 404, code: 'not_found', message: `${what} ${id} not found` });
export const conflict = (message: string, details?: unknown) =>
  new SchedulerError({ status: 409, code: 'conflict', message, details });
export const badRequest = (message: string, details?: unknown) =>
  new SchedulerError({ status: 400, code: 'bad_request', message, details });
export const forbidden = (message: string, details?: unknown) =>
  new SchedulerError({ status: 403, code: 'forbidden', message, details });
export const rateLimited = (message: string, details?: unknown) =>
  new SchedulerError({ status: 429, code: 'rate_limited', message, details });

/** Runs `body` and reports a SchedulerError as a failed outcome; other errors propagate. */
export async function outcome<T>(body: () => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    if (error instanceof SchedulerError) return { ok: false, error: error.failure };
    throw error;
  }
}
