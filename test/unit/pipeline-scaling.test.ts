/** The capacity a pipeline asks autoscalers for, and why its queued tasks wait. */
import { describe, expect, it } from 'vitest';
import { wantedCapacity, type ScalingInput } from '../../durable-objects/pipeline-scaling.ts';
import { waitingReason, type WaitingInput } from '../../durable-objects/waiting-reason.ts';

const scaling = (over: Partial<ScalingInput>) =>
  wantedCapacity({
    queued: 0,
    running: 0,
    meanTaskSeconds: 10,
    targetQueueSeconds: 60,
    maxConcurrency: 100,
    slotsPerAgent: 1,
    ...over,
  });

describe('wantedCapacity', () => {
  it('wants nothing when idle, so autoscalers can scale to zero', () => {
    expect(scaling({})).toEqual({ wantedSlots: 0, wantedAgents: 0 });
  });

  it('keeps the slots running tasks hold', () => {
    expect(scaling({ running: 3 })).toEqual({ wantedSlots: 3, wantedAgents: 3 });
  });

  it('wants enough slots to drain the queue within the target', () => {
    // 60 tasks of 10 s in 60 s: each slot runs 6, so 10 slots.
    expect(scaling({ queued: 60 })).toEqual({ wantedSlots: 10, wantedAgents: 10 });
    // One more task needs one more slot (rounded up).
    expect(scaling({ queued: 61 }).wantedSlots).toBe(11);
    expect(scaling({ queued: 60, running: 4 }).wantedSlots).toBe(14);
    // Twice the target halves the slots.
    expect(scaling({ queued: 60, targetQueueSeconds: 120 }).wantedSlots).toBe(5);
    // Short tasks: a single slot keeps up.
    expect(scaling({ queued: 5, meanTaskSeconds: 0.5 }).wantedSlots).toBe(1);
  });

  it('takes one slot per queued task before any task has finished', () => {
    expect(scaling({ queued: 7, meanTaskSeconds: null })).toEqual({
      wantedSlots: 7,
      wantedAgents: 7,
    });
  });

  it('never wants more than maxConcurrency', () => {
    expect(scaling({ queued: 10_000, running: 5, maxConcurrency: 8 })).toEqual({
      wantedSlots: 8,
      wantedAgents: 8,
    });
  });

  it('packs slots into agents, rounding up', () => {
    expect(scaling({ queued: 60, slotsPerAgent: 4 })).toEqual({ wantedSlots: 10, wantedAgents: 3 });
    expect(scaling({ queued: 60, slotsPerAgent: 0 })).toEqual({
      wantedSlots: 10,
      wantedAgents: 10,
    });
  });
});

const waiting = (over: Partial<WaitingInput>) =>
  waitingReason({
    requires: ['tesseract', 'wget'],
    agents: [['tesseract', 'wget']],
    notBefore: null,
    now: 1_000_000,
    running: 0,
    maxConcurrency: 10,
    ...over,
  });

describe('waitingReason', () => {
  it('names the executor no agent has', () => {
    expect(waiting({ agents: [['wget'], []] })).toBe('no ready agent has executor tesseract');
    expect(waiting({ agents: [] })).toBe('no ready agent has executors tesseract, wget');
  });

  it('says when the executors exist, but never together on one agent', () => {
    expect(waiting({ agents: [['wget'], ['tesseract']] })).toBe(
      'no ready agent has all of the executors tesseract, wget; every step of a task runs on one agent',
    );
  });

  it('names the cap when the pipeline runs as many tasks as it may', () => {
    expect(waiting({ running: 10 })).toBe(
      'the pipeline runs at most 10 tasks at once (maxConcurrency), and 10 are running',
    );
  });

  it('names a retry backoff first', () => {
    expect(waiting({ notBefore: 1_005_000, agents: [] })).toBe(
      `waiting out its retry backoff until ${new Date(1_005_000).toISOString()}`,
    );
    expect(waiting({ notBefore: 999_000 })).toBe('waiting for a free slot: 1 agent can run it');
  });

  it('otherwise waits for a slot on the agents that can run it', () => {
    expect(waiting({ agents: [['tesseract', 'wget'], ['x', 'tesseract', 'wget'], ['wget']] })).toBe(
      'waiting for a free slot: 2 agents can run it',
    );
  });
});
