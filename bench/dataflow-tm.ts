/**
 * The TM side of bench:dataflow: one DAG submitted as one dataflow job, timed from the POST to the
 * job's end, with the CPU the control plane (wrangler dev and its workerd) and the agents spent.
 */
import type { JobView, TaskView } from '../protocol/index.ts';
import type { Stack } from '../cli/local/stack.ts';
import type { Dag } from './lib/dataflow-dags.ts';
import { treeCpuSeconds } from './lib/process-tree-cpu.ts';
import { profileJob, type JobProfile } from './lib/dataflow-profile.ts';

/** Longest a submission holds its reply (the API's bound); a longer job is then polled. */
const WAIT_SECONDS = 300;
const POLL_MS = 20;
const JOB_TIMEOUT_MS = 30 * 60_000;

export interface TmRun {
  /** Client's POST → the reply (or poll) that shows the job ended. */
  wallMs: number;
  /** The job's own createdAt → finishedAt, on the Durable Object's clock. */
  serverMs: number;
  /** CPU seconds in the run: the control plane's process tree, and the agents'. */
  controlPlaneCpu: number;
  agentsCpu: number;
  profile: JobProfile;
}

function cpu(stack: Stack) {
  return {
    controlPlane: treeCpuSeconds(stack.controlPlane.child.process.pid),
    agents: stack.agents.reduce((sum, a) => sum + treeCpuSeconds(a.process.pid), 0),
  };
}

async function submitAndWait(stack: Stack, dag: Dag): Promise<JobView> {
  const request = { kind: 'dataflow' as const, name: dag.name, stages: dag.stages };
  const job = await stack.client.submitJob(request, WAIT_SECONDS);
  if (job.finishedAt) return job;
  return stack.client.waitJob(job.id, JOB_TIMEOUT_MS, POLL_MS);
}

function checkDone(job: JobView, dag: Dag): void {
  if (job.state !== 'succeeded' || job.counts.succeeded !== dag.tasks)
    throw new Error(
      `${dag.name}: job ${job.id} is ${job.state} with ${job.counts.succeeded} of ${dag.tasks} tasks succeeded (${job.error ?? ''})`,
    );
}

export async function runTmDag(stack: Stack, dag: Dag): Promise<TmRun> {
  const cpuBefore = cpu(stack);
  const submittedAt = Date.now();
  const started = performance.now();
  const ended = await submitAndWait(stack, dag);
  const wallMs = performance.now() - started;
  const repliedAt = Date.now();
  const cpuAfter = cpu(stack);
  checkDone(ended, dag);
  const view = await stack.client.getJob(ended.id, 0);
  const tasks: TaskView[] = [];
  for await (const task of stack.client.jobTasks(ended.id)) tasks.push(task);
  return {
    wallMs,
    serverMs: Date.parse(view.finishedAt ?? '') - Date.parse(view.createdAt),
    controlPlaneCpu: cpuAfter.controlPlane - cpuBefore.controlPlane,
    agentsCpu: cpuAfter.agents - cpuBefore.agents,
    profile: profileJob(view, tasks, submittedAt, repliedAt),
  };
}
