/**
 * The pipeline executor: runs a task's steps in order in a fresh scratch directory (`{{workdir}}`)
 * that every step shares and that is removed afterwards; a tenant's lies in its own dir. Each
 * command is rendered into an argv and run by the command executor, without a shell, so task data
 * is never more than its arguments.
 */
import { mkdir, rm } from 'node:fs/promises';
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  MAX_STEP_OUTPUT_BYTES,
  MAX_TASK_OUTPUT_BYTES,
  parseCommandTemplate,
  renderCommand,
  type PipelineResult,
  type StepReport,
} from '../../protocol/index.ts';
import type { ExecutorMap } from '../executor-args.ts';
import { OutputCapture } from '../output-capture.ts';
import { commandExecutor } from './command.ts';
import type { Sandbox } from '../sandbox/sandbox.ts';
import { ensureTenantRoot, PIPELINES_DIR, TENANTS_DIR } from '../sandbox/tenant-dirs.ts';
import { failure } from '../task-outcome.ts';
import type { Executor, PipelineSpec, TaskContext, TaskOutcome } from '../task-outcome.ts';

export interface PipelineOptions {
  /** The agent's work dir; task workdirs are made under it. */
  workDir: string;
  address: string;
  killGraceMs: number;
  executors: ExecutorMap;
  /**
   * False with --no-commands: a step's commands may then run only the step's own executor, so
   * such an agent runs nothing but the programs it announced.
   */
  acceptsCommands: boolean;
  baseEnv?: NodeJS.ProcessEnv;
  /** What steps run in (default: nothing, the agent's own view). */
  sandbox?: Sandbox;
}

type Step = PipelineSpec['steps'][number];
type StepResult = PipelineResult['steps'][number];

/**
 * Where this agent keeps the workdirs of tasks run from `root` (the work dir, or a tenant's dir);
 * a predecessor killed mid-task may have left some.
 */
function workdirRoot(root: string, options: PipelineOptions): string {
  return join(root, PIPELINES_DIR, options.address.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** Removes what a predecessor at this address left, in the work dir and every tenant's dir. */
function removeLeftovers(options: PipelineOptions): void {
  const tenants = join(options.workDir, TENANTS_DIR);
  let names: string[] = [];
  try {
    names = readdirSync(tenants);
  } catch {
    // No tenant has run a task here yet.
  }
  for (const root of [options.workDir, ...names.map((name) => join(tenants, name))])
    rmSync(workdirRoot(root, options), { recursive: true, force: true });
}

export function pipelineExecutor(options: PipelineOptions): Executor<PipelineSpec> {
  removeLeftovers(options);
  const run = commandExecutor({
    workDir: options.workDir,
    address: options.address,
    killGraceMs: options.killGraceMs,
    acceptsCommands: true,
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
  });
  return async (task) => {
    const missing = task.spec.steps.find(
      (step) => !Object.hasOwn(options.executors, step.executor),
    );
    if (missing) return failure('refused', `this agent has no executor ${missing.executor}`);
    // Per attempt: a retry, here or elsewhere, starts from an empty directory.
    const { taskId, attempt, tenant } = task.assignment;
    const root = await ensureTenantRoot(options.workDir, tenant);
    const workdir = join(workdirRoot(root, options), `${taskId}.${attempt}`);
    await mkdir(workdir, { recursive: true });
    try {
      return await new PipelineRun(task, options, run, root, workdir).steps();
    } finally {
      await rm(workdir, { recursive: true, force: true });
    }
  };
}

class PipelineRun {
  private readonly reports: StepReport[] = [];
  private readonly results: StepResult[] = [];
  private readonly deadline: number | null;
  private began = false;

  constructor(
    private readonly task: TaskContext<PipelineSpec>,
    private readonly options: PipelineOptions,
    private readonly run: ReturnType<typeof commandExecutor>,
    /** The dir the task's `path` is relative to: the work dir, or its tenant's. */
    private readonly root: string,
    private readonly workdir: string,
  ) {
    const seconds = task.spec.timeoutSeconds;
    this.deadline = seconds === undefined ? null : Date.now() + seconds * 1000;
  }

  async steps(): Promise<TaskOutcome> {
    const { spec } = this.task;
    for (const [index, step] of spec.steps.entries()) {
      const failed = await this.step(index, step);
      if (failed) return failed;
    }
    const output = this.results.find((step) => step.name === spec.result)?.output ?? '';
    const result: PipelineResult = { steps: this.results, result: output };
    return { ok: true, exitCode: 0, result };
  }

  /** Runs one step's commands in order; returns the failure that ends the task, if any. */
  private async step(index: number, step: Step): Promise<TaskOutcome | null> {
    const report: StepReport = {
      name: step.name,
      executor: step.executor,
      state: 'running',
      exitCode: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    this.reports.push(report);
    this.report();
    const kept = this.results.reduce((sum, r) => sum + Buffer.byteLength(r.output, 'utf8'), 0);
    const stdout = new OutputCapture(Math.min(MAX_STEP_OUTPUT_BYTES, MAX_TASK_OUTPUT_BYTES - kept));
    let exitCode = 0;
    for (const [number, template] of step.commands.entries()) {
      const where = `step ${index + 1} "${step.name}", command ${number + 1}`;
      const outcome = await this.command(step, template, where, stdout);
      exitCode = outcome.exitCode ?? 0;
      if (!outcome.ok) {
        this.end(report, 'failed', outcome.exitCode ?? null);
        return {
          ...outcome,
          error: { ...outcome.error, message: `${where}: ${outcome.error.message}` },
        };
      }
    }
    this.end(report, 'succeeded', exitCode);
    this.results.push({
      name: step.name,
      executor: step.executor,
      exitCode,
      output: stdout.text,
      truncated: stdout.truncated,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt ?? report.startedAt,
    });
    return null;
  }

  private async command(
    step: Step,
    template: string,
    where: string,
    stdout: OutputCapture,
  ): Promise<TaskOutcome> {
    const { task, options } = this;
    if (task.signal.aborted) return failure('cancelled', 'cancelled');
    const argv = this.argv(template);
    if (typeof argv === 'string') return failure('refused', argv, { nonRetryable: true });
    const [name = '', ...args] = argv;
    if (!options.acceptsCommands && name !== step.executor) {
      const message = `runs ${name}, but this agent (--no-commands) runs only a step's own executor (${step.executor})`;
      return failure('refused', message, { nonRetryable: true });
    }
    const timeoutSeconds = this.timeoutSeconds(step);
    if (timeoutSeconds !== undefined && timeoutSeconds <= 0)
      return failure('timeout', `the task timed out after ${task.spec.timeoutSeconds}s`);
    const program = options.executors[name] ?? name;
    task.log([{ stream: 'system', data: `[${where}] ${[name, ...args].map(shown).join(' ')}\n` }]);
    return this.run({
      ...task,
      spec: {
        kind: 'command',
        command: [program, ...args],
        path: relative(this.root, this.workdir),
        env: { TM_WORKDIR: this.workdir, TM_PIPELINE: task.spec.pipeline, TM_STEP: step.name },
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      },
      started: () => {
        if (!this.began) task.started();
        this.began = true;
      },
      log: (chunks) => {
        for (const chunk of chunks) if (chunk.stream === 'stdout') stdout.write(chunk.data);
        task.log(chunks);
      },
    });
  }

  /** The rendered argv, or why the template cannot be run (the Scheduler checked it already). */
  private argv(template: string): string[] | string {
    const parsed = parseCommandTemplate(template);
    if (!parsed.ok) return `cannot parse ${JSON.stringify(template)}: ${parsed.message}`;
    const values = {
      ...this.task.spec.data,
      workdir: this.workdir,
      task_id: this.task.assignment.taskId,
    };
    const rendered = renderCommand(parsed.words, values);
    if (!rendered.ok) return `no value for ${rendered.missing.map((v) => `{{${v}}}`).join(', ')}`;
    return rendered.argv;
  }

  /** The step's own limit, or what is left of the task's, whichever is shorter. */
  private timeoutSeconds(step: Step): number | undefined {
    const left = this.deadline === null ? undefined : (this.deadline - Date.now()) / 1000;
    if (left === undefined) return step.timeoutSeconds;
    return step.timeoutSeconds === undefined ? left : Math.min(left, step.timeoutSeconds);
  }

  private end(report: StepReport, state: 'succeeded' | 'failed', exitCode: number | null): void {
    report.state = state;
    report.exitCode = exitCode;
    report.finishedAt = new Date().toISOString();
    this.report();
  }

  private report(): void {
    this.task.progress({ steps: this.reports.map((report) => ({ ...report })) });
  }
}

/** An argument as a log line shows it: quoted when a reader could not tell where it ends. */
function shown(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
