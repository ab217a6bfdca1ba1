/**
 * Pure rules of a dataflow job: which stages end when their tasks have, which start when their
 * upstreams have ended, what a failure cancels, and how the job ends.
 */
import type { JobState, StageState } from '../protocol/index.ts';

export interface StageFacts {
  /** Indices of the stages it depends on (batch edges). */
  dependsOn: readonly number[];
  /** Its stream group: stages joined by stream edges share one, and run all at once. */
  group: number;
  continueOnFailure: boolean;
  state: StageState;
  /** Its tasks so far; all zero for a stage that has not started. */
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
}

export interface StageMove {
  stage: number;
  from: StageState;
  to: StageState;
  /** For a stage cancelled without running: why. */
  reason?: string;
}

export interface DataflowStep {
  moves: StageMove[];
  /** Stages to start now: their tasks are to be created. */
  start: number[];
  /** Cancel every unfinished task of the job: a stage failed, or the job was cancelled. */
  cancelRest: boolean;
  /** The job's end, once no stage is waiting or running; else null. */
  outcome: JobState | null;
}

const isLive = (state: StageState) => state === 'waiting' || state === 'running';

/** What happens next, given each stage's facts (in the order submitted) and the job's cancel. */
export function stepDataflow(
  stages: readonly StageFacts[],
  names: readonly string[],
  order: readonly number[],
  cancelRequested: boolean,
): DataflowStep {
  const states = stages.map((stage) => stage.state);
  const moves: StageMove[] = [];
  const move = (stage: number, to: StageState, reason?: string) => {
    moves.push({ stage, from: states[stage]!, to, ...(reason ? { reason } : {}) });
    states[stage] = to;
  };
  const groups = new Map<number, number[]>();
  stages.forEach((stage, s) => groups.set(stage.group, [...(groups.get(stage.group) ?? []), s]));
  const members = (s: number) => groups.get(stages[s]!.group) ?? [s];
  const tasksEnded = (stage: StageFacts) =>
    stage.succeeded + stage.failed + stage.cancelled >= stage.total;
  stages.forEach((stage, s) => {
    if (stage.state !== 'running') return;
    // A stream group's stages end together: a finished producer may yet run again in a restart.
    if (!members(s).every((m) => tasksEnded(stages[m]!))) return;
    if (stage.failed > 0) move(s, 'failed');
    else if (stage.cancelled > 0) move(s, 'cancelled');
    else move(s, 'succeeded');
  });
  const blocking = states.findIndex(
    (state, s) => state === 'failed' && !stages[s]!.continueOnFailure,
  );
  const start: number[] = [];
  if (cancelRequested || blocking >= 0) {
    const reason = cancelRequested ? 'the job was cancelled' : `stage "${names[blocking]}" failed`;
    states.forEach((state, s) => {
      if (state === 'waiting') move(s, 'cancelled', reason);
    });
  } else {
    for (const s of order) {
      if (states[s] !== 'waiting') continue;
      const group = members(s);
      const ups = group.flatMap((m) => stages[m]!.dependsOn);
      if (ups.some((u) => isLive(states[u]!))) continue;
      const cancelled = ups.find((u) => states[u] === 'cancelled');
      for (const m of group) {
        if (cancelled !== undefined)
          move(m, 'cancelled', `upstream stage "${names[cancelled]}" was cancelled`);
        else {
          move(m, 'running');
          start.push(m);
        }
      }
    }
  }
  const live = states.some(isLive);
  // A stream instance that failed for good leaves its group's others without a peer: stop them.
  const brokenGroup = stages.some(
    (stage, s) =>
      states[s] === 'running' &&
      stage.failed > 0 &&
      !stage.continueOnFailure &&
      members(s).length > 1,
  );
  const cancelRest =
    (cancelRequested || blocking >= 0 || brokenGroup) &&
    states.some((state) => state === 'running');
  return {
    moves,
    start,
    cancelRest,
    outcome: live ? null : outcome(states, stages, cancelRequested),
  };
}

function outcome(
  states: readonly StageState[],
  stages: readonly StageFacts[],
  cancelRequested: boolean,
): JobState {
  if (cancelRequested) return 'cancelled';
  const failed = states.some(
    (state, s) => state === 'cancelled' || (state === 'failed' && !stages[s]!.continueOnFailure),
  );
  return failed ? 'failed' : 'succeeded';
}
