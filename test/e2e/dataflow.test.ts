/**
 * End to end: dataflow jobs on wrangler dev with real agents. Stages start when their upstreams
 * have ended, upstream results arrive as variables and files, a failure cancels what has not run,
 * a control-plane restart mid-DAG resumes it, and a SIGKILLed agent's stage instance runs again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, StageView } from '../../protocol/index.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ agents: 3, slots: 2 });
}, 120_000);
afterAll(async () => stack?.stop());

const stageOf = (job: JobView, name: string): StageView => {
  const stage = job.stages?.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name} in ${JSON.stringify(job.stages)}`);
  return stage;
};

const timeOf = (at: string | null) => {
  if (!at) throw new Error('no time');
  return Date.parse(at);
};

describe('dataflow jobs', () => {
  it('runs a diamond: each stage after its upstreams, with their results as variables and files', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      name: 'diamond',
      stages: [
        { name: 'split', kind: 'command', command: 'echo "part-$TM_INSTANCE"', parallelism: 3 },
        {
          name: 'left',
          kind: 'command',
          command: 'echo "L($TM_INPUT_split)" | tr "\\n" ","',
          dependsOn: ['split'],
        },
        {
          name: 'right',
          kind: 'command',
          command: 'cat "$TM_INPUTS/split/2"; echo "/$TM_STAGE/$TM_INSTANCE/$TM_PARALLELISM"',
          dependsOn: ['split'],
          parallelism: 2,
        },
        {
          name: 'join',
          kind: 'command',
          command: 'echo "$TM_INPUT_left+$(ls "$TM_INPUTS/right" | wc -l)+$TM_INPUT_right"',
          dependsOn: ['left', 'right'],
        },
      ],
    });
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state, JSON.stringify(done.stages)).toBe('succeeded');
    expect(done.kind).toBe('dataflow');
    expect(done.counts.succeeded).toBe(7);
    for (const stage of done.stages!) expect(stage.state).toBe('succeeded');
    expect(stageOf(done, 'split').counts.succeeded).toBe(3);
    // A stage starts only after each of its upstreams has finished.
    const split = stageOf(done, 'split');
    for (const name of ['left', 'right'])
      expect(timeOf(stageOf(done, name).startedAt)).toBeGreaterThanOrEqual(
        timeOf(split.finishedAt),
      );
    const join = done.tasks!.find((t) => t.stage?.name === 'join')!;
    expect(join.result).toBe('L(part-0,part-1,part-2),+2+part-2/right/0/2\npart-2/right/1/2');
    const rights = done.tasks!.filter((t) => t.stage?.name === 'right');
    expect(rights.map((t) => t.stage!.instance).sort()).toEqual([0, 1]);
    // One stage's tasks, read by stage: through the SDK, and a stage the job lacks refused.
    const listed: string[] = [];
    for await (const task of stack.client.stageTasks(job.id, 'right')) listed.push(task.id);
    expect(listed.sort()).toEqual(rights.map((t) => t.id).sort());
    const page = await stack.client.jobTasksPage(job.id, { stage: 'split', limit: 2 });
    expect(page.tasks.map((t) => t.stage)).toEqual([
      { name: 'split', instance: 0 },
      { name: 'split', instance: 1 },
    ]);
    expect(page.next).not.toBeNull();
    const missing = await stack.client.jobTasksPage(job.id, { stage: 'ghost' }).catch(String);
    expect(String(missing)).toContain('has no stage "ghost"');
  });

  it('puts upstream results into an argv command as template values, each one argument', async () => {
    const job = await stack.client.submitJob(
      {
        kind: 'dataflow',
        stages: [
          {
            name: 'parts',
            kind: 'command',
            command: 'echo "p$TM_INSTANCE; rm -rf /"',
            parallelism: 2,
          },
          {
            name: 'show',
            kind: 'command',
            command: ['printf', '[%s] [%s]', '{{parts.1}}', '{{parts}}'],
            dependsOn: ['parts'],
          },
        ],
      },
      60,
    );
    expect(job.state, JSON.stringify(job.stages)).toBe('succeeded');
    const show = job.tasks!.find((t) => t.stage?.name === 'show')!;
    expect(show.result).toBe('[p1; rm -rf /] [p0; rm -rf /\np1; rm -rf /]');
  });

  it('fails the job when a stage fails, cancelling the stages that have not started', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'ok', kind: 'echo', payload: 1 },
        { name: 'bad', kind: 'command', command: 'echo no >&2; exit 3', dependsOn: ['ok'] },
        { name: 'after', kind: 'command', command: 'echo never', dependsOn: ['bad'] },
        { name: 'beside', kind: 'echo', dependsOn: ['ok'] },
      ],
    });
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('failed');
    expect(done.error).toContain('stage "bad" failed');
    expect(done.error).toContain('exited with code 3');
    expect(stageOf(done, 'ok').state).toBe('succeeded');
    expect(stageOf(done, 'bad').state).toBe('failed');
    expect(stageOf(done, 'after').state).toBe('cancelled');
    expect(stageOf(done, 'after').error).toContain('stage "bad" failed');
    expect(stageOf(done, 'after').counts.succeeded + stageOf(done, 'after').counts.failed).toBe(0);
  });

  it('goes on past a stage with continueOnFailure, and the job succeeds', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'flaky', kind: 'command', command: 'exit 1', continueOnFailure: true },
        {
          name: 'then',
          kind: 'command',
          command: 'echo "got [$TM_INPUT_flaky]"',
          dependsOn: ['flaky'],
        },
      ],
    });
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('succeeded');
    expect(stageOf(done, 'flaky').state).toBe('failed');
    expect(stageOf(done, 'then').state).toBe('succeeded');
    expect(done.tasks!.find((t) => t.stage?.name === 'then')!.result).toBe('got []');
  });

  it('cancels every running stage when the job is cancelled', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'long', kind: 'command', command: 'sleep 60', parallelism: 2 },
        { name: 'next', kind: 'echo', dependsOn: ['long'] },
      ],
    });
    await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return stageOf(view, 'long').counts.running === 2 ? true : undefined;
    }, 'both instances to run');
    await stack.client.cancelJob(job.id);
    const done = await stack.client.waitJob(job.id, 30_000);
    expect(done.state).toBe('cancelled');
    expect(stageOf(done, 'long').state).toBe('cancelled');
    expect(stageOf(done, 'next').state).toBe('cancelled');
    expect(done.counts.running).toBe(0);
  });

  it('refuses bad graphs with a 400 that names the problem', async () => {
    const refusal = async (stages: unknown[]) => {
      const res = await fetch(`${stack.url}/v1/jobs`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'dataflow', stages }),
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${stack.adminToken}`,
        },
      });
      expect(res.status).toBe(400);
      return JSON.stringify(await res.json());
    };
    const echo = (name: string, dependsOn?: string[]) => ({ name, kind: 'echo', dependsOn });
    expect(await refusal([echo('a', ['c']), echo('b', ['a']), echo('c', ['b'])])).toContain(
      'a → c → b → a',
    );
    expect(await refusal([echo('a', ['ghost'])])).toContain('unknown stage \\"ghost\\"');
    expect(await refusal([echo('a'), echo('a')])).toContain('already named \\"a\\"');
    expect(await refusal([echo('self', ['self'])])).toContain('self → self');
    expect(await refusal(Array.from({ length: 1001 }, (_, i) => echo(`s${i}`)))).toContain(
      'at most 1000 stages',
    );
    expect(await refusal([{ name: 'x', kind: 'command' }])).toContain('command');
    expect(await refusal([{ name: 'bad name', kind: 'echo' }])).toContain('stage name');
  });

  it('resumes a DAG across a control-plane restart mid-stage', async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'first', kind: 'command', command: 'sleep 3; echo one' },
        {
          name: 'second',
          kind: 'command',
          command: 'echo "two after $TM_INPUT_first"',
          dependsOn: ['first'],
        },
      ],
    });
    await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return stageOf(view, 'first').counts.running === 1 ? true : undefined;
    }, 'the first stage to run');
    await stack.restartControlPlane();
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('succeeded');
    expect(done.tasks!.find((t) => t.stage?.name === 'second')!.result).toBe('two after one');
  });

  it("runs a SIGKILLed agent's stage instance again elsewhere, and the DAG finishes", async () => {
    const job = await stack.client.submitJob({
      kind: 'dataflow',
      stages: [
        { name: 'work', kind: 'command', command: 'sleep 4; echo "done $TM_ATTEMPT"' },
        {
          name: 'after',
          kind: 'command',
          command: 'echo "saw $TM_INPUT_work"',
          dependsOn: ['work'],
        },
      ],
    });
    const running = await eventually(async () => {
      const view = await stack.client.getJob(job.id);
      return view.tasks!.find((t) => t.state === 'running' && t.workerId);
    }, 'the work instance to run');
    const { address } = await stack.client.getWorker(running.workerId!);
    const victim = stack.agents.find((a) => a.address === address)!;
    victim.signal('SIGKILL');
    await victim.exited;
    stack.agents.splice(stack.agents.indexOf(victim), 1);
    const done = await stack.client.waitJob(job.id, 60_000);
    expect(done.state).toBe('succeeded');
    const work = await stack.client.getTask(done.tasks!.find((t) => t.stage?.name === 'work')!.id);
    const history = JSON.stringify(work.history);
    // Attempt 1 was lost with the victim; the one that succeeded ran elsewhere, and the next
    // stage read its output. An attempt lost in between (one more agent gone) shows as lost,
    // never as failed; each message carries the history.
    expect(work.history?.[0], history).toMatchObject({ attempt: 1, outcome: 'lost' });
    expect(work.history?.[0]?.workerId, history).toBe(running.workerId);
    expect(
      work.history?.slice(1, -1).every((a) => a.outcome === 'lost'),
      history,
    ).toBe(true);
    expect(work.history?.at(-1), history).toMatchObject({
      attempt: work.attempt,
      outcome: 'succeeded',
    });
    expect(work.workerId, history).not.toBe(running.workerId);
    expect(done.tasks!.find((t) => t.stage?.name === 'after')!.result).toBe(
      `saw done ${work.attempt}`,
    );
  });
});
