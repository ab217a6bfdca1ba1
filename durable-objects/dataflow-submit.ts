/**
 * Drafts a dataflow job: its stored stages, all waiting; launchJob then starts the ones that wait
 * on nothing (startDataflow), by the same rules as every later step.
 */
import type { DataflowJobRequest } from '../protocol/index.ts';
import { resolvePolicy } from './job-policy.ts';
import type { JobDraft } from './job-plan.ts';
import { storedDataflowSpec } from './dataflow-spec.ts';

export function draftDataflow(id: string, request: DataflowJobRequest): JobDraft {
  const roots = request.stages.filter((stage) => (stage.dependsOn ?? []).length === 0);
  return {
    id,
    kind: 'dataflow',
    name: request.name ?? null,
    spec: storedDataflowSpec(request),
    policy: resolvePolicy(request, 0),
    phase: null,
    tasks: [],
    admitting: roots.reduce((sum, stage) => sum + (stage.parallelism ?? 1), 0),
    stages: request.stages.length,
  };
}
