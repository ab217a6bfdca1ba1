/** A dataflow job's stages as the API shows them: state, task counts and timings, by stage. */
import {
  isEndState,
  stageInstances,
  streamGroups,
  type StageState,
  type StageView,
} from '../protocol/index.ts';
import { gangsOfJob } from './db/dataflow-gangs.ts';
import type { Sql } from './db/sql.ts';
import type { JobRow } from './db/rows.ts';
import { stageRows, stageTaskCounts } from './db/dataflow-stages.ts';
import { dataflowOf } from './dataflow-cache.ts';
import { stageJobsOf } from './db/dataflow-stage-jobs.ts';
import { isoOrNull } from './views.ts';

const NONE = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };

export function stageViews(sql: Sql, job: JobRow): StageView[] {
  const { spec, graph } = dataflowOf(job.id, job.spec);
  const rows = stageRows(sql, job.id);
  const counts = stageTaskCounts(sql, job.id);
  const gangs = new Map(gangsOfJob(sql, job.id).map((gang) => [gang.gang, gang]));
  const launched = stageJobsOf(sql, job.id);
  return spec.stages.map((stage, s) => {
    const row = rows[s];
    const gang = gangs.get(graph.groups[s] ?? s);
    return {
      name: stage.name,
      kind: stage.kind,
      state: shownState(row?.state ?? 'waiting', job.state),
      parallelism: stageInstances(stage),
      dependsOn: stage.dependsOn ?? [],
      continueOnFailure: stage.continueOnFailure ?? false,
      counts: counts.get(s) ?? NONE,
      error: row?.error ?? null,
      streamFrom: stage.streamFrom ?? [],
      waitingFor: row?.state === 'running' ? (gang?.waiting_for ?? null) : null,
      restarts: gang ? gang.epoch - 1 : 0,
      job: launched.get(s) ?? null,
      startedAt: isoOrNull(row?.started_at ?? null),
      finishedAt: isoOrNull(row?.finished_at ?? null),
    };
  });
}

/** A job that ended (by its deadline, say) leaves no stage waiting or running. */
const shownState = (state: StageState, jobState: string): StageState =>
  isEndState(jobState) && !isEndState(state) ? 'cancelled' : state;
