/** Drafts a dataflow job: its stored stages, and the tasks of the stages that depend on none. */
import type { DataflowJobRequest } from '../protocol/index.ts';
import { resolvePolicy } from './job-policy.ts';
import type { JobDraft } from './job-plan.ts';
import { stageTasks } from './dataflow-phases.ts';
import { storedDataflowSpec } from './dataflow-spec.ts';

export function draftDataflow(id: string, request: DataflowJobRequest): JobDraft {
  const roots = request.stages.map((stage) => (stage.dependsOn ?? []).length === 0);
  const tasks = request.stages.flatMap((stage, s) =>
    roots[s]
      ? stageTasks(s, stage.name, stage.parallelism ?? 1).map((task) => ({
          ...task,
          kind: stage.kind,
        }))
      : [],
  );
  return {
    id,
    kind: 'dataflow',
    name: request.name ?? null,
    spec: storedDataflowSpec(request),
    policy: resolvePolicy(request, 0),
    phase: null,
    tasks,
    stages: roots.map((root) => (root ? 'running' : 'waiting')),
  };
}
