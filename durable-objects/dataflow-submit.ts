/**
 * Drafts a dataflow job: its stored stages, all waiting; launchJob then starts the ones that wait
 * on nothing (startDataflow), by the same rules as every later step.
 */
import { stageInstances, type DataflowJobRequest } from '../protocol/index.ts';
import { resolvePolicy } from './job-policy.ts';
import type { JobDraft } from './job-plan.ts';
import { storedDataflowSpec } from './dataflow-spec.ts';

export function draftDataflow(
  id: string,
  request: DataflowJobRequest,
  refs: Parameters<typeof storedDataflowSpec>[1],
): JobDraft {
  const roots = request.stages.filter((stage) => (stage.dependsOn ?? []).length === 0);
  return {
    id,
    kind: 'dataflow',
    name: request.name ?? null,
    spec: storedDataflowSpec(request, refs),
    policy: resolvePolicy(request, 0),
    phase: null,
    tasks: [],
    admitting: roots.reduce((sum, stage) => sum + stageInstances(stage), 0),
    stages: request.stages.length,
  };
}
