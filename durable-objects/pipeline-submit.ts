/**
 * Submitting data to a pipeline: one job of kind `pipeline` per call, one task per data item, each
 * bound to the pipeline's latest version; and reading those tasks back inside the tenant.
 */
import {
  dataStrings,
  missingVariable,
  requiredExecutors,
  stepName,
  type PipelineSubmission,
  type PipelineTaskData,
  type PipelineTaskView,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { badRequest, notFound } from './failure.ts';
import { resolvePolicy } from './job-policy.ts';
import type { JobDraft } from './job-plan.ts';
import { launchJob } from './job-ops.ts';
import { findPipelineTask, jobTaskIds, jobTaskRowsAfter } from './db/tasks.ts';
import { findVersion, specOf } from './db/pipelines.ts';
import { budgetPage } from './view-budget.ts';
import { findOwnPipeline } from './pipeline-ops.ts';
import { checkPipelineSteps } from './tenant-access.ts';
import {
  pipelineTaskViews,
  type PipelineJobSpec,
  type PipelineScope,
  type PipelineTaskPart,
} from './pipeline-task-view.ts';
import { timeOrderedId } from './ids.ts';

/** The reply shows this many tasks in full, within VIEW_BUDGET_BYTES; `taskIds` lists them all. */
const SUBMISSION_VIEWS = 100;
/** Views built per query: one holds up to MAX_TASK_OUTPUT_BYTES of output and its result. */
const SUBMISSION_BATCH = 4;

export async function submitPipelineTasks(
  core: Core,
  tenantId: string,
  application: string,
  name: string,
  items: readonly PipelineTaskData[],
  waitSeconds = 0,
): Promise<PipelineSubmission> {
  const { scope, version } = resolveScope(core, tenantId, application, name);
  const steps = scope.latest.pipeline;
  // Checked again here: the admin may have taken a grant back since the pipeline was defined.
  checkPipelineSteps(core.sql, tenantId, steps);
  const data = items.map(dataStrings);
  data.forEach((values, index) => {
    const missing = missingVariable(steps, values);
    if (!missing) return;
    const which = items.length > 1 ? `task ${index} of the batch: ` : '';
    throw badRequest(`${which}${missing.message}`, {
      task: index,
      variable: missing.variable,
      step: stepName(steps[missing.step] ?? { executor: '', commands: [] }),
    });
  });
  const pipeline = { id: scope.pipelineId, requires: requiredExecutors(steps) };
  const spec: PipelineJobSpec = { application, pipeline: name, pipelineId: pipeline.id, version };
  const draft: JobDraft = {
    id: timeOrderedId(core.now()),
    kind: 'pipeline',
    name: `${application}/${name}`,
    spec: { ...spec },
    policy: resolvePolicy(scope.latest, 0),
    phase: null,
    tasks: data.map((values) => ({
      pinnedWorkerId: null,
      spec: { data: values } satisfies PipelineTaskPart,
      pipeline,
    })),
  };
  await launchJob(core, draft, null, waitSeconds, tenantId);
  const shown = budgetPage(
    (after: PipelineTaskView | null, count) =>
      pipelineTaskViews(
        core.sql,
        scope,
        jobTaskRowsAfter(core.sql, draft.id, after?.index ?? -1, count),
        core.now(),
      ),
    (view) => view,
    { limit: SUBMISSION_VIEWS, batch: SUBMISSION_BATCH },
  );
  return {
    application,
    pipeline: name,
    version,
    jobId: draft.id,
    taskIds: jobTaskIds(core.sql, draft.id),
    tasks: shown.views,
  };
}

export function getPipelineTask(
  core: Core,
  tenantId: string,
  application: string,
  name: string,
  taskId: string,
): PipelineTaskView {
  const { scope } = resolveScope(core, tenantId, application, name);
  const row = findPipelineTask(core.sql, taskId, tenantId, scope.pipelineId);
  const [view] = row ? pipelineTaskViews(core.sql, scope, [row], core.now()) : [];
  if (!view) throw notFound('task', taskId);
  return view;
}

function resolveScope(
  core: Core,
  tenantId: string,
  application: string,
  name: string,
): { scope: PipelineScope; version: number } {
  const found = findOwnPipeline(core, tenantId, application, name);
  const latest = findVersion(core.sql, found.pipeline.id, found.pipeline.version);
  if (!latest) throw notFound('pipeline', `${application}/${name}`);
  const scope = {
    application,
    pipeline: name,
    pipelineId: found.pipeline.id,
    latest: specOf(latest),
  };
  return { scope, version: found.pipeline.version };
}
