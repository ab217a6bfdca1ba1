/**
 * Pure rules of a dataflow job: which stages end when their tasks have, which start when their
 * upstreams have ended, what a failure cancels, and how the job ends. A step costs a pass over
 * the stages' states and the tallies of the running ones, so a long chain stays cheap per hop.
 */
import type { JobState, StageState } from '../protocol/index.ts';

/** What never changes about a job's stages (dataflow-spec.ts stageGraph builds it). */
export interface DataflowShape {
  names: readonly string[];
  /** Each stage's batch dependencies, as indices. */
  dependsOn: readonly (readonly number[])[];
  /** Each stage's stream group: the stages that run at once with it (itself included). */
  members: readonly (readonly number[])[];
  continueOnFailure: readonly boolean[];
  /** An order where each stage follows every stage it waits on or reads from. */
  order: readonly number[];
}

/** A running stage's tasks so far. */
export interface StageTally {
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
const NONE: StageTally = { total: 0, succeeded: 0, failed: 0, cancelled: 0 };
const ended = (t: StageTally) => t.succeeded + t.failed + t.cancelled >= t.total;

/** What happens next, given each stage's state, the running stages' tallies and the job's cancel. */
export function stepDataflow(
  shape: DataflowShape,
  current: readonly StageState[],
  tallies: ReadonlyMap<number, StageTally>,
  cancelRequested: boolean,
): DataflowStep {
  const states = [...current];
  const moves: StageMove[] = [];
  const move = (stage: number, to: StageState, reason?: string) => {
    moves.push({ stage, from: states[stage]!, to, ...(reason ? { reason } : {}) });
    states[stage] = to;
  };
  const tally = (s: number) => tallies.get(s) ?? NONE;
  for (const [s, state] of current.entries()) {
    // A stream group's stages end together: a finished producer may yet run again in a restart.
    if (state !== 'running' || !shape.members[s]!.every((m) => ended(tally(m)))) continue;
    const { failed, cancelled } = tally(s);
    move(s, failed > 0 ? 'failed' : cancelled > 0 ? 'cancelled' : 'succeeded');
  }
  const blocking = states.findIndex(
    (state, s) => state === 'failed' && !shape.continueOnFailure[s],
  );
  const start: number[] = [];
  if (cancelRequested || blocking >= 0) {
    const reason = cancelRequested
      ? 'the job was cancelled'
      : `stage "${shape.names[blocking]}" failed`;
    states.forEach((state, s) => {
      if (state === 'waiting') move(s, 'cancelled', reason);
    });
  } else {
    for (const s of shape.order)
      if (states[s] === 'waiting') startGroup(shape, states, s, move, start);
  }
  // A stream instance that failed for good leaves its group's others without a peer: stop them.
  const brokenGroup = [...tallies].some(
    ([s, t]) =>
      states[s] === 'running' &&
      t.failed > 0 &&
      !shape.continueOnFailure[s] &&
      shape.members[s]!.length > 1,
  );
  const running = states.includes('running');
  return {
    moves,
    start,
    cancelRest: (cancelRequested || blocking >= 0 || brokenGroup) && running,
    outcome: states.some(isLive) ? null : outcome(shape, states, cancelRequested),
  };
}

/** Starts a waiting stage's group once the upstreams of all of it have ended, or cancels it. */
function startGroup(
  shape: DataflowShape,
  states: readonly StageState[],
  s: number,
  move: (stage: number, to: StageState, reason?: string) => void,
  start: number[],
): void {
  const group = shape.members[s]!;
  const ups = group.flatMap((m) => shape.dependsOn[m]!);
  if (ups.some((u) => isLive(states[u]!))) return;
  const cancelled = ups.find((u) => states[u] === 'cancelled');
  for (const m of group) {
    if (cancelled !== undefined)
      move(m, 'cancelled', `upstream stage "${shape.names[cancelled]}" was cancelled`);
    else {
      move(m, 'running');
      start.push(m);
    }
  }
}

function outcome(
  shape: DataflowShape,
  states: readonly StageState[],
  cancelRequested: boolean,
): JobState {
  if (cancelRequested) return 'cancelled';
  const failed = states.some(
    (state, s) => state === 'cancelled' || (state === 'failed' && !shape.continueOnFailure[s]),
  );
  return failed ? 'failed' : 'succeeded';
}
