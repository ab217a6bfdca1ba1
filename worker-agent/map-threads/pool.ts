/**
 * Runs map tasks on worker threads, one task per thread, so an agent's map slots use that many
 * cores (reading, decoding and aggregating are all CPU work). A thread that crashes, or does not
 * stop within ABORT_GRACE_MS of a cancel, is ended and never reused. A thread takes about half a
 * second of CPU to load its modules, so the agent keeps `keepWarm` of them (its slots) loaded from
 * the start: a job's first maps, and the first after a quiet spell, do not wait for that.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  failure,
  type Executor,
  type MapSpec,
  type TaskContext,
  type TaskOutcome,
} from '../task-outcome.ts';
import type { FromThread, ThreadData, ToThread } from './messages.ts';

// Built, a thread loads its compiled entry; from source, boot.js first registers tsx (a worker
// thread does not inherit the agent's loader).
const BOOT = new URL(
  import.meta.url.endsWith('.ts') ? './boot.js' : './thread.js',
  import.meta.url,
);
/** How long a cancelled task's thread gets to stop on its own before it is ended. */
const ABORT_GRACE_MS = 5000;
/** An idle thread beyond the warm ones ends after this long; the next map task starts a new one. */
const IDLE_MS = 60_000;

interface PooledThread {
  worker: Worker;
  idleTimer?: NodeJS.Timeout;
}

export class MapThreadPool {
  private readonly idle: PooledThread[] = [];
  private readonly data: ThreadData;

  constructor(
    data: ThreadData,
    private readonly keepWarm = 0,
  ) {
    // One cache key for the pool's threads: the agent's, or one made here for this pool alone.
    this.data = data.cache
      ? { ...data, cache: { ...data.cache, key: data.cache.key ?? randomBytes(32) } }
      : data;
  }

  /** Starts threads until `keepWarm` are idle, loading their modules while nothing waits on them. */
  warm(): void {
    while (this.idle.length < this.keepWarm) this.giveBack(this.spawn());
  }

  /** Threads loaded and waiting for a task. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** The executor for `aggregate-map` tasks. */
  readonly executor: Executor<MapSpec> = (task) => this.run(task);

  /** Ends the idle threads (running ones end with their tasks' aborts or the process). */
  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((thread) => this.end(thread)));
  }

  private take(): PooledThread {
    const thread = this.idle.pop();
    if (!thread) return this.spawn();
    clearTimeout(thread.idleTimer);
    return thread;
  }

  private spawn(): PooledThread {
    const thread: PooledThread = { worker: new Worker(BOOT, { workerData: this.data }) };
    // A thread that fails while idle (loading its modules, say) leaves the pool; one that fails
    // running a task also reports it to that task (see run).
    const drop = () => this.leaveIdle(thread);
    thread.worker.on('error', drop).on('exit', drop);
    return thread;
  }

  /** Takes `thread` out of the idle ones, if it is there. */
  private leaveIdle(thread: PooledThread): void {
    const index = this.idle.indexOf(thread);
    if (index >= 0) this.idle.splice(index, 1);
  }

  private giveBack(thread: PooledThread): void {
    thread.worker.unref();
    if (this.idle.length >= this.keepWarm) {
      thread.idleTimer = setTimeout(() => {
        this.leaveIdle(thread);
        void this.end(thread);
      }, IDLE_MS);
      thread.idleTimer.unref();
    }
    this.idle.push(thread);
  }

  private async end(thread: PooledThread): Promise<void> {
    clearTimeout(thread.idleTimer);
    await thread.worker.terminate();
  }

  private async run(task: TaskContext<MapSpec>): Promise<TaskOutcome> {
    if (task.signal.aborted) return failure('cancelled', 'cancelled before it started');
    const thread = this.take();
    const { worker } = thread;
    worker.ref();
    return new Promise<TaskOutcome>((resolve) => {
      let graceTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: TaskOutcome, reusable: boolean) => {
        clearTimeout(graceTimer);
        task.signal.removeEventListener('abort', onAbort);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (reusable) this.giveBack(thread);
        else void this.end(thread);
        resolve(outcome);
      };
      const onMessage = (message: FromThread) => {
        if (message.type === 'started') task.started();
        else if (message.type === 'progress') task.progress(message.figures);
        else finish(message.outcome, !task.signal.aborted);
      };
      const onError = (error: Error) =>
        finish(failure('internal', `the map thread crashed: ${error.message}`), false);
      const onExit = (code: number) =>
        finish(failure('internal', `the map thread stopped (exit code ${code})`), false);
      const onAbort = () => {
        worker.postMessage({ type: 'abort' } satisfies ToThread);
        graceTimer = setTimeout(
          () => finish(failure('cancelled', 'the map thread did not stop in time'), false),
          ABORT_GRACE_MS,
        );
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      task.signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({
        type: 'run',
        assignment: task.assignment,
        spec: task.spec,
      } satisfies ToThread);
    });
  }
}
