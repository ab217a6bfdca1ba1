/** How pipelines, their submissions and their tasks read in a terminal. */
import type { PipelineSubmission, PipelineTaskView, PipelineView } from '../../protocol/index.ts';
import { duration } from './duration.ts';
import { renderFields, renderTable } from './table.ts';

export function pipelineDetail(view: PipelineView, width: number): string {
  const s = view.stats;
  const fields: [string, unknown][] = [
    ['pipeline', `${view.application}/${view.name}`],
    ['version', `${view.version} (latest ${view.latestVersion}, of ${view.versionCreatedAt})`],
    ['executors', view.executors.join(', ')],
    ['result', `the stdout of step ${view.definition.result}`],
    ['tasks', `${s.queued} queued, ${s.running} running`],
    [
      `last ${s.windowSeconds}s`,
      `${s.succeeded} succeeded, ${s.failed} failed, ${s.throughputPerMinute.toFixed(1)}/min`,
    ],
    ['agents', `${s.readyAgents} ready, ${s.wantedAgents} wanted`],
  ];
  const steps = view.definition.pipeline.map((step) => ({
    STEP: step.name,
    EXECUTOR: step.executor,
    COMMANDS: step.commands.join(' ; '),
  }));
  const table = renderTable(['STEP', 'EXECUTOR', 'COMMANDS'], steps, { maxWidth: width });
  return `${renderFields(fields, width)}\n\n${table}`;
}

export function submissionTable(submission: PipelineSubmission, width: number): string {
  const rows = submission.tasks.map((task) => ({
    TASK: task.id,
    '#': task.index,
    STATE: task.state,
    RESULT: task.result ?? task.error ?? task.waiting ?? '',
  }));
  return renderTable(['TASK', '#', 'STATE', 'RESULT'], rows, { maxWidth: width });
}

/** One line on a submission: its job, version and how many tasks it made. */
export function submissionSummary(submission: PipelineSubmission): string {
  const count = submission.taskIds.length;
  return `submitted ${count} task${count === 1 ? '' : 's'} to ${submission.application}/${submission.pipeline} version ${submission.version} as job ${submission.jobId}`;
}

export function pipelineTaskDetail(task: PipelineTaskView, width: number): string {
  const fields: [string, unknown][] = [
    ['task', task.id],
    ['job', task.jobId],
    ['pipeline', `${task.application}/${task.pipeline} version ${task.version}`],
    ['state', task.state],
    ['attempt', task.attempt],
    ['worker', task.workerId ?? '-'],
    ['data', task.data],
    ...optionalField('waiting', task.waiting),
    ...optionalField('error', task.error),
    ['duration', duration(task.startedAt, task.finishedAt)],
  ];
  const steps = task.steps.map((step) => ({
    STEP: step.name,
    EXECUTOR: step.executor,
    STATE: step.state,
    EXIT: step.exitCode ?? '-',
    DURATION: duration(step.startedAt, step.finishedAt),
    OUTPUT: step.output === null ? '' : step.output + (step.truncated ? ' (truncated)' : ''),
  }));
  const columns = ['STEP', 'EXECUTOR', 'STATE', 'EXIT', 'DURATION', 'OUTPUT'];
  const result = task.result === null ? '' : `\n\nresult:\n${task.result.replace(/\n$/, '')}`;
  return `${renderFields(fields, width)}\n\n${renderTable(columns, steps, { maxWidth: width })}${result}`;
}

const optionalField = (key: string, value: string | null): [string, unknown][] =>
  value === null ? [] : [[key, value]];
