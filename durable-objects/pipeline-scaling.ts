/**
 * How much capacity a pipeline wants, for autoscalers: enough task slots that its queue drains
 * within its target queue time, never more than its maxConcurrency. docs/pipelines.md explains it.
 */

export interface ScalingInput {
  queued: number;
  running: number;
  /** Mean run time of recent tasks; null when none has finished yet. */
  meanTaskSeconds: number | null;
  targetQueueSeconds: number;
  maxConcurrency: number;
  /** Task slots of one agent that can run the pipeline. */
  slotsPerAgent: number;
}

export interface Scaling {
  wantedSlots: number;
  wantedAgents: number;
}

/**
 * One slot runs `targetQueueSeconds / meanTaskSeconds` tasks within the target, so the queue wants
 * `ceil(queued × meanTaskSeconds / targetQueueSeconds)` slots on top of those running now. With no
 * finished task to measure, a task is taken to last the whole target: one slot per queued task.
 */
export function wantedCapacity(input: ScalingInput): Scaling {
  const taskSeconds = input.meanTaskSeconds ?? input.targetQueueSeconds;
  const forQueue =
    input.queued === 0 ? 0 : Math.ceil((input.queued * taskSeconds) / input.targetQueueSeconds);
  const wantedSlots = Math.min(input.maxConcurrency, input.running + forQueue);
  const wantedAgents = Math.ceil(wantedSlots / Math.max(1, input.slotsPerAgent));
  return { wantedSlots, wantedAgents };
}
