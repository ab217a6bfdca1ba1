/** The echo executor: completes at once, in process, with the spec's payload as the result. */
import type { EchoSpec, Executor } from '../task-outcome.ts';

/** No `started` frame: the task ends in the same tick; the probe measures scheduler overhead. */
export const runEcho: Executor<EchoSpec> = ({ spec }) => ({
  ok: true,
  result: spec.payload ?? null,
});
