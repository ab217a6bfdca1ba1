/** Turns what an aggregation step throws into a task failure: bad data is final, a flaky store retries. */
import { failure, internalFailure, type TaskOutcome } from '../task-outcome.ts';
import { KernelError } from '../aggregate/kernels/index.ts';
import { ReaderError } from '../aggregate/readers/index.ts';
import { StorageError } from '../storage/index.ts';

export function dataFailure(error: unknown, signal: AbortSignal, where: string): TaskOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (signal.aborted) return failure('cancelled', `stopped while working on ${where}`);
  if (error instanceof KernelError || error instanceof ReaderError) {
    return failure('internal', `${where}: ${message}`, { nonRetryable: true });
  }
  if (error instanceof StorageError) {
    // A changed object stays changed: only a new job, planned on the new version, can read it.
    const final =
      error.code === 'not_found' || error.code === 'access_denied' || error.code === 'changed';
    return failure('internal', error.message, { nonRetryable: final });
  }
  return internalFailure(error);
}
