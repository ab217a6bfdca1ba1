/**
 * Where a dataflow job's time went, read from the outside: the timestamps of its job, stage and
 * task views (the Durable Object's clock, in ms) beside the client's submit and reply times.
 */
import type { JobView, StageView, TaskView } from '../../protocol/index.ts';
import { percentile } from './stats.ts';

export interface JobProfile {
  /** Named durations in ms (or counts, where the name says so), in the order they happen. */
  phases: [string, number][];
}

const at = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);
const p50 = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const max = (values: number[]) => values.reduce((m, v) => Math.max(m, v), -Infinity);
const min = (values: number[]) => values.reduce((m, v) => Math.min(m, v), Infinity);
const spans = (tasks: TaskView[], from: keyof TaskView, to: keyof TaskView) =>
  tasks.map((t) => at(t[to] as string | null) - at(t[from] as string | null));

/** Upstream's last end → this stage's start, for every stage with upstreams. */
function stageGaps(stages: StageView[]): number[] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  return stages
    .filter((s) => s.dependsOn.length > 0)
    .map((s) => at(s.startedAt) - max(s.dependsOn.map((d) => at(byName.get(d)?.finishedAt))));
}

export function profileJob(
  job: JobView,
  tasks: TaskView[],
  submittedAt: number,
  repliedAt: number,
): JobProfile {
  const stages = job.stages ?? [];
  const finished = tasks.map((t) => at(t.finishedAt));
  const created = at(job.createdAt);
  const jobEnd = at(job.finishedAt);
  return {
    phases: [
      ['client submit → job created (HTTP, validation, insert)', created - submittedAt],
      ['job created → first task assigned', min(tasks.map((t) => at(t.assignedAt))) - created],
      ['task queued → assigned, p50', p50(spans(tasks, 'createdAt', 'assignedAt'))],
      ['task queued → assigned, max', max(spans(tasks, 'createdAt', 'assignedAt'))],
      ['task assigned → started, p50', p50(spans(tasks, 'assignedAt', 'startedAt'))],
      ['task started → finished, p50', p50(spans(tasks, 'startedAt', 'finishedAt'))],
      [
        'task assigned → finished (agent round trip), p50',
        p50(spans(tasks, 'assignedAt', 'finishedAt')),
      ],
      ['stage started → finished, p50', p50(stages.map((s) => at(s.finishedAt) - at(s.startedAt)))],
      ['upstreams finished → stage started, p50', p50(stageGaps(stages))],
      ['upstreams finished → stage started, max', max(stageGaps(stages))],
      ['settlements (distinct task finish times), count', new Set(finished).size],
      ['last task finished → job finished', jobEnd - max(finished)],
      ['job finished → client has the reply', repliedAt - jobEnd],
      ['job created → finished (the Durable Object’s own wall time)', jobEnd - created],
    ],
  };
}
