/** The pipeline executor against real processes: steps, shared workdir, injection, failures, limits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineTaskSpec, StepReport } from '../../protocol/index.ts';
import { pipelineExecutor, type PipelineOptions } from '../../worker-agent/executors/pipeline.ts';
import type { LogChunk, Progress, TaskOutcome } from '../../worker-agent/task-outcome.ts';
import { assignment } from './agent-helpers.ts';

let root: string;
let workDir: string;
let bin: string;
const ADDRESS = 'test-host:50051';

beforeAll(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tm-agent-pipeline-')));
  workDir = join(root, 'work');
  bin = join(root, 'bin');
  await mkdir(workDir);
  await mkdir(bin);
  // Stand-ins: "wget -O OUT URL" writes the URL into OUT and prints each argument in brackets;
  // "tesseract IN OUT" writes "text of <IN's content>" into OUT.txt.
  await script(
    'wget',
    '#!/bin/sh\nprintf "%s" "$3" > "$2"\nfor a in "$@"; do printf "[%s]" "$a"; done\n',
  );
  await script(
    'tesseract',
    '#!/bin/sh\nprintf "text of %s\\n" "$(cat "$1")" > "$2.txt"\necho recognised >&2\n',
  );
});
afterAll(async () => rm(root, { recursive: true, force: true }));

async function script(name: string, body: string): Promise<string> {
  const file = join(bin, name);
  await writeFile(file, body);
  await chmod(file, 0o755);
  return file;
}

const OCR_STEPS: PipelineTaskSpec['steps'] = [
  { name: 'wget', executor: 'wget', commands: ['wget -O {{workdir}}/image.png {{url}}'] },
  {
    name: 'tesseract',
    executor: 'tesseract',
    commands: ['tesseract {{workdir}}/image.png {{workdir}}/result', 'cat {{workdir}}/result.txt'],
  },
];

function spec(over: Partial<PipelineTaskSpec> = {}): PipelineTaskSpec {
  return {
    kind: 'pipeline',
    application: 'app',
    pipeline: 'ocr',
    version: 1,
    steps: OCR_STEPS,
    result: 'tesseract',
    data: { url: 'http://example.com/a.png' },
    ...over,
  };
}

function start(taskSpec: PipelineTaskSpec, options: Partial<PipelineOptions> = {}, attempt = 1) {
  const execute = pipelineExecutor({
    workDir,
    address: ADDRESS,
    killGraceMs: 200,
    acceptsCommands: true,
    executors: { wget: join(bin, 'wget'), tesseract: join(bin, 'tesseract') },
    ...options,
  });
  const controller = new AbortController();
  const chunks: LogChunk[] = [];
  const progress: StepReport[][] = [];
  let started = 0;
  const outcome = Promise.resolve(
    execute({
      assignment: assignment(taskSpec, attempt),
      spec: taskSpec,
      signal: controller.signal,
      started: () => started++,
      log: (batch) => chunks.push(...batch),
      progress: (figures: Progress) => {
        if ('steps' in figures) progress.push(figures.steps);
      },
    }),
  );
  const text = (stream: LogChunk['stream']) =>
    chunks
      .filter((c) => c.stream === stream)
      .map((c) => c.data)
      .join('');
  return {
    outcome,
    chunks,
    progress,
    text,
    started: () => started,
    cancel: () => controller.abort(),
  };
}

const workdirs = () => {
  const dir = join(workDir, '.tm-pipelines', 'test-host_50051');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('pipeline executor', () => {
  it('runs the steps in order in one workdir, and results in the result step’s stdout', async () => {
    const run = start(spec());
    const outcome = await run.outcome;
    expect(outcome).toMatchObject({
      ok: true,
      exitCode: 0,
      result: {
        result: 'text of http://example.com/a.png\n',
        steps: [
          { name: 'wget', executor: 'wget', exitCode: 0, truncated: false },
          {
            name: 'tesseract',
            executor: 'tesseract',
            exitCode: 0,
            truncated: false,
            output: 'text of http://example.com/a.png\n',
          },
        ],
      },
    });
    const steps = outcome.ok ? (outcome.result as { steps: { output: string }[] }).steps : [];
    expect(steps[0]?.output).toMatch(
      /^\[-O\]\[\/.*\/\.tm-pipelines\/test-host_50051\/[0-9a-f-]+\.1\/image\.png\]\[http:\/\/example\.com\/a\.png\]$/,
    );
    expect(run.started()).toBe(1);
    expect(run.text('stderr')).toBe('recognised\n');
    expect(run.text('system')).toMatch(
      /^\[step 1 "wget", command 1\] wget -O \/.*image\.png http:\/\/example\.com\/a\.png\n\[step 2 "tesseract", command 1\] tesseract/,
    );
    // The workdir is gone afterwards.
    expect(workdirs()).toEqual([]);
    // Progress: each step reported running, then ended.
    expect(run.progress.map((steps) => steps.map((s) => s.state))).toEqual([
      ['running'],
      ['succeeded'],
      ['succeeded', 'running'],
      ['succeeded', 'succeeded'],
    ]);
    expect(run.progress.at(-1)?.[1]).toMatchObject({ exitCode: 0, finishedAt: expect.any(String) });
  });

  it('passes hostile data as one argument and never to a shell', async () => {
    const marker = join(root, `pwned-${Date.now()}`);
    const attacks = [
      `x; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `a\ntouch ${marker}`,
      `' ; touch ${marker} ; '`,
      `| touch ${marker}`,
    ];
    for (const url of attacks) {
      const outcome = await start(spec({ data: { url } })).outcome;
      expect(outcome.ok, url).toBe(true);
      const steps = outcome.ok
        ? (outcome.result as { steps: { output: string }[]; result: string })
        : null;
      expect(steps?.steps[0]?.output.endsWith(`][${url}]`), url).toBe(true);
      expect(steps?.result).toBe(`text of ${url}\n`);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('gives each attempt a fresh workdir', async () => {
    const steps: PipelineTaskSpec['steps'] = [
      { name: 'sh', executor: 'sh', commands: ['sh -c "ls -A; touch left-over" {{workdir}}'] },
    ];
    const options = { executors: { sh: null } };
    const first = await start(spec({ steps, result: 'sh' }), options, 1).outcome;
    const second = await start(spec({ steps, result: 'sh' }), options, 2).outcome;
    expect(
      [first, second].map((o) => (o.ok ? (o.result as { result: string }).result : null)),
    ).toEqual(['', '']);
  });

  it('fails the task at the first failing command, naming the step, and runs nothing after it', async () => {
    const marker = join(root, `after-${Date.now()}`);
    const steps: PipelineTaskSpec['steps'] = [
      { name: 'first', executor: 'sh', commands: ['true'] },
      { name: 'second', executor: 'sh', commands: ['sh -c "exit 3"', `touch ${marker}`] },
      { name: 'third', executor: 'sh', commands: [`touch ${marker}`] },
    ];
    const run = start(spec({ steps, result: 'third' }), { executors: { sh: null } });
    expect(await run.outcome).toEqual({
      ok: false,
      exitCode: 3,
      error: { type: 'exit', message: 'step 2 "second", command 1: exited with code 3' },
    });
    expect(existsSync(marker)).toBe(false);
    expect(run.progress.at(-1)?.map((s) => [s.name, s.state, s.exitCode])).toEqual([
      ['first', 'succeeded', 0],
      ['second', 'failed', 3],
    ]);
    expect(workdirs()).toEqual([]);
  });

  it('refuses a task whose executors the agent does not have', async () => {
    const outcome = await start(spec(), { executors: { wget: null } }).outcome;
    expect(outcome).toEqual({
      ok: false,
      error: { type: 'refused', message: 'this agent has no executor tesseract' },
    });
  });

  it('runs the mapped program for an executor name, and other programs from the PATH', async () => {
    const run = start(spec());
    expect((await run.outcome).ok).toBe(true);
    // `cat` is not an executor: it ran from the PATH.
    expect(run.text('system')).toContain('command 2] cat /');
  });

  it('with --no-commands, runs only each step’s own executor', async () => {
    const outcome = await start(spec(), { acceptsCommands: false }).outcome;
    expect(outcome).toEqual({
      ok: false,
      error: {
        type: 'refused',
        nonRetryable: true,
        message:
          'step 2 "tesseract", command 2: runs cat, but this agent (--no-commands) runs only a step\'s own executor (tesseract)',
      },
    });
  });

  it('keeps at most 64 KiB of a step’s stdout, and all of it in the logs', async () => {
    const steps: PipelineTaskSpec['steps'] = [
      { name: 'big', executor: 'sh', commands: ["sh -c 'yes é | head -c 99999'"] },
    ];
    const run = start(spec({ steps, result: 'big' }), { executors: { sh: null } });
    const outcome = await run.outcome;
    const result = outcome.ok
      ? (outcome.result as { steps: { output: string; truncated: boolean }[] })
      : null;
    const output = result?.steps[0]?.output ?? '';
    expect(result?.steps[0]?.truncated).toBe(true);
    expect(Buffer.byteLength(output)).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.byteLength(output)).toBeGreaterThan(64 * 1024 - 4);
    expect(output).not.toContain('\ufffd');
    expect(Buffer.byteLength(run.text('stdout'))).toBe(99_999);
  });

  it('stops at cancel: the running command is killed, the workdir removed', async () => {
    const steps: PipelineTaskSpec['steps'] = [
      { name: 'slow', executor: 'sleep', commands: ['sleep 30'] },
    ];
    const run = start(spec({ steps, result: 'slow' }), { executors: { sleep: null } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.cancel();
    expect(await run.outcome).toMatchObject({ ok: false, error: { type: 'cancelled' } });
    expect(workdirs()).toEqual([]);
  });

  it('times out the task as a whole, across its steps', async () => {
    const steps: PipelineTaskSpec['steps'] = [
      { name: 'a', executor: 'sleep', commands: ['sleep 0.3'] },
      { name: 'b', executor: 'sleep', commands: ['sleep 30'] },
    ];
    const started = Date.now();
    const outcome = await start(spec({ steps, result: 'b', timeoutSeconds: 1 }), {
      executors: { sleep: null },
    }).outcome;
    expect(outcome).toMatchObject({
      ok: false,
      error: {
        type: 'timeout',
        message: expect.stringMatching(/^step 2 "b", command 1: timed out after 0\.\d+s$/),
      },
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('removes workdirs a killed predecessor at the same address left behind', async () => {
    const stale = join(workDir, '.tm-pipelines', 'test-host_50051', 'old-task.1');
    await mkdir(stale, { recursive: true });
    pipelineExecutor({
      workDir,
      address: ADDRESS,
      killGraceMs: 200,
      acceptsCommands: true,
      executors: {},
    });
    expect(existsSync(stale)).toBe(false);
  });
});
