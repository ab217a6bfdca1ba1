/**
 * The frame budget at submit: a job whose spec, re-encoded as the Scheduler stores it and sends it
 * to agents, is over MAX_SPEC_BYTES is refused before anything is stored (400 `spec_too_large`).
 * Measured after parsing, not on the body: `9e15` in a body is 16 bytes once written back out.
 */
import { MAX_FRAME_BYTES, MAX_SPEC_BYTES, jsonBytes } from '../protocol/index.ts';
import { SchedulerError } from './failure.ts';
import { simpleTaskSpec, type JobDraft } from './job-plan.ts';

/** Throws `spec_too_large` when the job's stored spec, or any task's share of it, is too large. */
export function checkSpecSize(draft: JobDraft): void {
  const stored = jsonBytes(draft.spec);
  let largestPart = 0;
  for (const task of draft.tasks) largestPart = Math.max(largestPart, jsonBytes(task.spec));
  // What an agent receives: the job's spec and the task's own part (split, data) together. A
  // pipeline's steps come from its version, bounded apart (MAX_DEFINITION_CHARS).
  const framed =
    draft.kind === 'command' || draft.kind === 'echo'
      ? jsonBytes(simpleTaskSpec(draft.kind, draft.spec)) + largestPart
      : stored + largestPart;
  const bytes = Math.max(stored, framed);
  if (bytes > MAX_SPEC_BYTES) throw specTooLarge(bytes);
}

function specTooLarge(bytes: number): SchedulerError {
  return new SchedulerError({
    status: 400,
    code: 'spec_too_large',
    message:
      `the job's spec is ${bytes} bytes of JSON as stored and sent to agents (numbers written ` +
      `out); the limit is ${MAX_SPEC_BYTES} bytes (MAX_SPEC_BYTES, half the ${MAX_FRAME_BYTES}-byte ` +
      `frame budget)`,
    details: { bytes, limit: MAX_SPEC_BYTES },
  });
}
