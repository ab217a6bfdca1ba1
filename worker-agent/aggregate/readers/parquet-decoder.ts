/**
 * Talks to Parquet decoding workers: open a file (or a footer), then fetch row groups as Arrow IPC.
 * Workers are pooled per process and reused between files; one that crashed or was aborted is
 * never reused.
 */
import { Worker } from 'node:worker_threads';

export interface RowGroupInfo {
  rows: number;
  /** Compressed bytes of the group's column chunks. */
  bytes: number;
}

export interface ParquetDecoder {
  groups: RowGroupInfo[];
  /** The file's top-level column names. */
  columns: string[];
  /** One row group (only `columns`, when given) as an Arrow IPC stream, in batches of `batchRows`. */
  readGroup(group: number, batchRows: number, columns?: readonly string[]): Promise<Uint8Array>;
  /** Gives the worker back to the pool (also done, by ending it, when `signal` aborts). */
  close(): Promise<void>;
}

/** What went wrong inside the decoder: bad bytes, or the decoder itself giving up. */
export class DecodeError extends Error {}

type Reply =
  | { type: 'opened'; groups: RowGroupInfo[]; columns: string[] }
  | { type: 'group'; ipc: Uint8Array }
  | { type: 'released' }
  | { type: 'error'; message: string };

const WORKER = new URL('./parquet-worker.js', import.meta.url);
/** Idle workers kept for the next file, each for at most IDLE_MS. */
const MAX_IDLE = 4;
const IDLE_MS = 5000;
const idle: DecoderWorker[] = [];

/** A worker from the pool, or a new one. */
function take(): DecoderWorker {
  const worker = idle.pop();
  if (!worker) return new DecoderWorker();
  clearTimeout(worker.idleTimer);
  return worker;
}

/** Keeps a healthy worker for the next file; its piped output would keep the process alive, so
 * an idle worker ends itself after IDLE_MS. */
async function giveBack(worker: DecoderWorker): Promise<void> {
  if (idle.length >= MAX_IDLE) return worker.terminate();
  idle.push(worker);
  worker.idleTimer = setTimeout(() => {
    idle.splice(idle.indexOf(worker), 1);
    void worker.terminate();
  }, IDLE_MS);
  worker.idleTimer.unref();
}

/** One worker thread and the single request it may have in flight. */
class DecoderWorker {
  private readonly worker = new Worker(WORKER, { stdout: true, stderr: true });
  private waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | null =
    null;
  private output = '';
  ended: Error | null = null;
  idleTimer: NodeJS.Timeout | undefined;

  constructor() {
    this.worker.on('message', (reply: Reply) => {
      const current = this.waiting;
      this.waiting = null;
      if (reply.type === 'error') current?.reject(new DecodeError(reply.message));
      else current?.resolve(reply);
    });
    // The decoder's own output (a panic message) goes into errors, not onto the agent's stderr.
    this.worker.stdout.resume();
    this.worker.stderr.on('data', (chunk: Buffer) => {
      if (this.output.length < 2048) this.output += chunk.toString('utf8');
    });
    this.worker.on('error', (error) =>
      this.end(
        new DecodeError(`the decoder crashed (${error.name}: ${error.message})${this.said()}`),
      ),
    );
    this.worker.on('exit', (code) =>
      this.end(new DecodeError(`the decoder stopped (exit code ${code})`)),
    );
    // Referenced only while a request is in flight (unref after the listeners: they re-ref).
    this.worker.unref();
  }

  /** Sends one request and waits for its reply of the expected type. */
  async ask<T extends Reply['type']>(
    message: unknown,
    expect: T,
  ): Promise<Extract<Reply, { type: T }>> {
    if (this.ended) throw this.ended;
    const reply = new Promise<Reply>((resolve, reject) => (this.waiting = { resolve, reject }));
    this.worker.ref();
    this.worker.postMessage(message);
    const answer = await reply.finally(() => this.worker.unref());
    if (answer.type !== expect) throw new DecodeError('the decoder answered out of turn');
    return answer as Extract<Reply, { type: T }>;
  }

  async terminate(): Promise<void> {
    this.end(new DecodeError('the decoder was stopped'));
    await this.worker.terminate();
  }

  private end(error: Error): void {
    this.ended ??= error;
    this.waiting?.reject(this.ended);
    this.waiting = null;
  }

  private said(): string {
    const line = this.output.split('\n').find((l) => l.trim().length > 0);
    return line ? `: ${line.trim().slice(0, 300)}` : '';
  }
}

/** Opens a local file, or bytes that hold a whole (or footer-only) Parquet file, on a pooled worker. */
export async function openParquetDecoder(
  source: { file: string } | { bytes: Uint8Array },
  signal?: AbortSignal,
): Promise<ParquetDecoder> {
  signal?.throwIfAborted();
  const worker = take();
  let closed = false;
  const abort = () => {
    closed = true;
    void worker.terminate();
  };
  signal?.addEventListener('abort', abort, { once: true });
  const close = async () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', abort);
    try {
      await worker.ask({ type: 'release' }, 'released');
      await giveBack(worker);
    } catch {
      await worker.terminate();
    }
  };
  try {
    const { groups, columns } = await worker.ask({ type: 'open', source }, 'opened');
    return {
      groups,
      columns,
      readGroup: async (group, batchRows, only) =>
        (
          await worker.ask(
            { type: 'read', group, batchRows, ...(only ? { columns: only } : {}) },
            'group',
          )
        ).ipc,
      close,
    };
  } catch (error) {
    // A file that would not open may have left the worker in any state: do not reuse it.
    closed = true;
    signal?.removeEventListener('abort', abort);
    await worker.terminate();
    throw error;
  }
}
