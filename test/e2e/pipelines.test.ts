/**
 * End to end: pipelines on a real `wrangler dev` with real agents whose executors are stand-in
 * scripts: the OCR pipeline, hostile data, waiting for an executor, an agent killed mid-step, and
 * a pipeline updated while its task runs. A tenant token drives the API, as a client would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, type TestStack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';
import { createObjectStore } from '../../worker-agent/storage/object-store.ts';
import type { AgentProcess } from '../../cli/local/agent-process.ts';
import type {
  CreatedTenantToken,
  LogPage,
  PipelineSubmission,
  PipelineTaskView,
  PipelineView,
  TaskView,
} from '../../protocol/index.ts';
import { callApi } from '../support/http.ts';
import { GRANT_ALL, wholeStores } from '../support/tenants.ts';

let stack: TestStack;
let token: string;
const APP = 'scans';

beforeAll(async () => {
  stack = await startTestStack({ agents: 0, s3: true });
  // "wget -O OUT URL" copies the fixture image to OUT and prints its arguments, each in brackets;
  // "tesseract IN OUT" writes the text of IN to OUT.txt; "sleeper NAME" prints NAME after a while.
  stack.writeScript('fixtures/image.png', 'HELLO OCR');
  stack.writeScript(
    'bin/wget',
    `#!/bin/sh\ncp "${join(stack.workDir, 'fixtures/image.png')}" "$2"\nfor a in "$@"; do printf '[%s]' "$a"; done\n`,
  );
  stack.writeScript('bin/tesseract', '#!/bin/sh\nprintf "text: %s\\n" "$(cat "$1")" > "$2.txt"\n');
  stack.writeScript('bin/ocrmypdf', '#!/bin/sh\necho "pdf of $1"\n');
  stack.writeScript(
    'bin/sleeper',
    '#!/bin/sh\nsleep "${SLEEP:-3}"\necho "$1 on attempt $TM_ATTEMPT"\n',
  );
  // Its steps run `cat` beside their executors (free-form programs), and one definition is read
  // from the store: both granted here.
  const reply = await http<CreatedTenantToken>(stack.adminToken, 'POST', '/v1/tenants', {
    name: 'scanner',
    permissions: { ...GRANT_ALL, stores: wholeStores('test-bucket') },
  });
  token = reply.body.token;
  expect(reply.status).toBe(201);
  await define({ name: 'ocr', pipeline: OCR });
}, 180_000);
afterAll(async () => stack?.stop());

const OCR = [
  { executor: 'wget', commands: ['wget -O {{workdir}}/image.png {{url}}'] },
  {
    executor: 'tesseract',
    commands: ['tesseract {{workdir}}/image.png {{workdir}}/result', 'cat {{workdir}}/result.txt'],
  },
];

const http = <T>(bearer: string, method: string, path: string, body?: unknown) =>
  callApi<T>(stack.url, bearer, method, path, body);

const api = <T>(method: string, path: string, body?: unknown) => http<T>(token, method, path, body);

async function define(definition: Record<string, unknown>): Promise<PipelineView> {
  const reply = await api<PipelineView>('POST', `/api/applications/${APP}/pipelines`, definition);
  if (reply.status !== 201 && reply.status !== 200)
    throw new Error(`define: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

async function submit(pipeline: string, data: unknown, wait = 0): Promise<PipelineSubmission> {
  const path = `/api/applications/${APP}/pipelines/${pipeline}${wait ? `?wait=${wait}` : ''}`;
  const reply = await api<PipelineSubmission>('POST', path, data);
  if (reply.status !== 202)
    throw new Error(`submit: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

const taskOf = async (pipeline: string, id: string) =>
  (await api<PipelineTaskView>('GET', `/api/applications/${APP}/pipelines/${pipeline}/tasks/${id}`))
    .body;

async function finished(pipeline: string, id: string): Promise<PipelineTaskView> {
  return eventually(
    async () => {
      const task = await taskOf(pipeline, id);
      return ['succeeded', 'failed', 'cancelled'].includes(task.state) ? task : undefined;
    },
    `task ${id} to end`,
    60_000,
  );
}

/** An agent that announces `executors`, each run by the stand-in script of its name. */
function agentWith(...executors: string[]): Promise<AgentProcess> {
  const args = executors.flatMap((name) => [
    '--executor',
    `${name}=${join(stack.workDir, 'bin', name)}`,
  ]);
  return stack.addAgent({ args, slots: 1 });
}

const connected = (address: string) =>
  eventually(async () => {
    const workers = await stack.client.listWorkers();
    return workers.find((w) => w.address === address && w.connected);
  }, `${address} to connect`);

describe('pipelines end to end', () => {
  it('runs the OCR pipeline: the result is the last step’s output', async () => {
    const agent = await agentWith('wget', 'tesseract');
    const worker = await connected(agent.address);
    expect(worker.executors).toEqual(['wget', 'tesseract']);

    const submitted = await submit('ocr', { url: 'http://example.com/scan.png' }, 60);
    const [task] = submitted.tasks;
    expect(task).toMatchObject({ state: 'succeeded', result: 'text: HELLO OCR\n', version: 1 });
    expect(task?.steps.map((s) => [s.name, s.state, s.exitCode])).toEqual([
      ['wget', 'succeeded', 0],
      ['tesseract', 'succeeded', 0],
    ]);
    expect(task?.steps[0]?.output).toMatch(
      /^\[-O\]\[\/.+\/\.tm-pipelines\/.+\/image\.png\]\[http:\/\/example\.com\/scan\.png\]$/,
    );

    // Logs, through the ordinary job API with the tenant's token.
    const logs = await api<LogPage>('GET', `/v1/jobs/${submitted.jobId}/logs`);
    const text = logs.body.entries.map((e) => e.data).join('');
    expect(text).toContain('[step 2 "tesseract", command 2] cat /');
    expect(text).toContain('text: HELLO OCR');

    const view = (await api<PipelineView>('GET', `/api/applications/${APP}/pipelines/ocr`)).body;
    expect(view.stats).toMatchObject({ queued: 0, running: 0, succeeded: 1, readyAgents: 1 });
    expect(view.stats.throughputPerMinute).toBeGreaterThan(0);
    expect(view.stats.meanTaskSeconds).toBeGreaterThan(0);
  });

  it('reads a definition from the object store', async () => {
    const store = createObjectStore(stack.s3!.access);
    const definition = { pipeline: OCR, result: 'wget', maxConcurrency: 2 };
    await store.put('pipelines/ocr.json', new TextEncoder().encode(JSON.stringify(definition)));
    const view = await define({
      name: 'stored',
      from: { store: 'test-bucket', key: 'pipelines/ocr.json' },
    });
    expect(view).toMatchObject({ version: 1, definition: { result: 'wget', maxConcurrency: 2 } });
    const [task] = (await submit('stored', { url: 'u' }, 60)).tasks;
    expect(task).toMatchObject({ state: 'succeeded' });
    expect(task?.result).toMatch(/\]\[u\]$/);
  });

  it('passes hostile data as one argument: no shell ever sees it', async () => {
    const marker = join(tmpdir(), `pwned-${process.pid}-${Date.now()}`);
    const urls = [
      `x; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `x\ntouch ${marker}`,
      `' ; touch ${marker} ; '`,
      `x && touch ${marker} #`,
    ];
    const submitted = await submit(
      'ocr',
      urls.map((url) => ({ url })),
      60,
    );
    for (const [index, url] of urls.entries()) {
      const task = submitted.tasks[index];
      expect(task?.state, url).toBe('succeeded');
      // The stand-in wget got the URL as its third argument, whole.
      expect(task?.steps[0]?.output?.endsWith(`][${url}]`), url).toBe(true);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('waits for an agent with the executor, says so, and runs once one comes', async () => {
    await define({
      name: 'pdf',
      pipeline: [{ executor: 'ocrmypdf', commands: ['ocrmypdf {{file}}'] }],
    });
    const [queued] = (await submit('pdf', { file: 'scan.tif' })).tasks;
    expect(queued?.state).toBe('queued');
    expect(queued?.waiting).toBe('no ready agent has executor ocrmypdf');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await taskOf('pdf', queued?.id ?? '')).state).toBe('queued');

    await agentWith('ocrmypdf');
    const done = await finished('pdf', queued?.id ?? '');
    expect(done).toMatchObject({ state: 'succeeded', result: 'pdf of scan.tif\n', waiting: null });
  });

  it('runs the task of an agent killed mid-step again elsewhere, with one successful attempt', async () => {
    await define({ name: 'slow', pipeline: [{ executor: 'sleeper', commands: ['sleeper slow'] }] });
    const agents = [await agentWith('sleeper'), await agentWith('sleeper')];
    await Promise.all(agents.map((a) => connected(a.address)));
    const [submitted] = (await submit('slow', { x: 1 })).tasks;
    const id = submitted?.id ?? '';
    const running = await eventually(async () => {
      const task = await taskOf('slow', id);
      return task.state === 'running' && task.steps[0]?.state === 'running' ? task : undefined;
    }, 'the step to run');
    const worker = await stack.client.getWorker(running.workerId ?? '');
    const victim = agents.find((a) => a.address === worker.address);
    victim?.signal('SIGKILL');
    await victim?.exited;

    const done = await finished('slow', id);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2, result: 'slow on attempt 2\n' });
    expect(done.workerId).not.toBe(worker.id);
    const task = await http<TaskView>(stack.adminToken, 'GET', `/v1/tasks/${id}`);
    expect(task.body.history?.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'lost'],
      [2, 'succeeded'],
    ]);
    const job = await stack.client.getJob(done.jobId);
    expect(job.attempts).toMatchObject({ succeeded: 1, failed: 0, lost: 1 });
    stack.agents.splice(stack.agents.indexOf(victim!), 1);
  });

  it('keeps a running task on its version when the pipeline is updated', async () => {
    await define({
      name: 'versioned',
      pipeline: [{ executor: 'sleeper', commands: ['sleeper v1'] }],
    });
    const [first] = (await submit('versioned', { x: 1 })).tasks;
    await eventually(async () => {
      const task = await taskOf('versioned', first?.id ?? '');
      return task.state === 'running' ? task : undefined;
    }, 'the v1 task to run');
    const updated = await define({
      name: 'versioned',
      pipeline: [{ executor: 'sleeper', commands: ['sleeper v2'] }],
    });
    expect(updated.version).toBe(2);
    const [second] = (await submit('versioned', { x: 2 })).tasks;
    const [one, two] = await Promise.all([
      finished('versioned', first?.id ?? ''),
      finished('versioned', second?.id ?? ''),
    ]);
    expect(one).toMatchObject({ version: 1, state: 'succeeded', result: 'v1 on attempt 1\n' });
    expect(two).toMatchObject({ version: 2, state: 'succeeded', result: 'v2 on attempt 1\n' });
  });
});
