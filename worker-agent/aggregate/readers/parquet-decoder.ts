/** Talks to the Parquet decoding worker: open a file (or a footer), then fetch row groups as Arrow IPC. */
import { Worker } from 'node:worker_threads';

export interface RowGroupInfo {
  rows: number;
  /** Compressed bytes of the group's column chunks. */
  bytes: number;
}

export interface ParquetDecoder {
  groups: RowGroupInfo[];
  /** One row group as an Arrow IPC stream, in batches of `batchRows`. */
  readGroup(group: number, batchRows: number): Promise<Uint8Array>;
  /** Ends the worker (also done when `signal` aborts). */
  close(): Promise<void>;
}

/** What went wrong inside the decoder: bad bytes, or the decoder itself giving up. */
export class DecodeError extends Error {}

type Reply =
  | { type: 'opened'; groups: RowGroupInfo[] }
  | { type: 'group'; ipc: Uint8Array }
  | { type: 'error'; message: string };

const WORKER = new URL('./parquet-worker.js', import.meta.url);

/** Starts a worker on a local file or on bytes that hold a whole (or footer-only) Parquet file. */
export async function openParquetDecoder(
  source: { file: string } | { bytes: Uint8Array },
  signal?: AbortSignal,
): Promise<ParquetDecoder> {
  signal?.throwIfAborted();
  const worker = new Worker(WORKER, { workerData: source, stdout: true, stderr: true });
  let waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | null = null;
  let ended: Error | null = null;
  const end = (error: Error) => {
    ended ??= error;
    waiting?.reject(ended);
    waiting = null;
  };
  worker.on('message', (reply: Reply) => {
    const current = waiting;
    waiting = null;
    if (reply.type === 'error') current?.reject(new DecodeError(reply.message));
    else current?.resolve(reply);
  });
  // The decoder's own output (a panic message) goes into errors, not onto the agent's stderr.
  let output = '';
  worker.stdout.resume();
  worker.stderr.on('data', (chunk: Buffer) => {
    if (output.length < 2048) output += chunk.toString('utf8');
  });
  const said = () => {
    const line = output.split('\n').find((l) => l.trim().length > 0);
    return line ? `: ${line.trim().slice(0, 300)}` : '';
  };
  worker.on('error', (error) =>
    end(new DecodeError(`the decoder crashed (${error.name}: ${error.message})${said()}`)),
  );
  worker.on('exit', (code) => end(new DecodeError(`the decoder stopped (exit code ${code})`)));
  const next = () =>
    ended
      ? Promise.reject(ended)
      : new Promise<Reply>((resolve, reject) => (waiting = { resolve, reject }));
  const close = async () => {
    signal?.removeEventListener('abort', abort);
    await worker.terminate();
  };
  const abort = () => void close();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const opened = await next();
    if (opened.type !== 'opened') throw new DecodeError('the decoder answered out of turn');
    return {
      groups: opened.groups,
      async readGroup(group, batchRows) {
        const reply = next();
        worker.postMessage({ group, batchRows });
        const answer = await reply;
        if (answer.type !== 'group') throw new DecodeError('the decoder answered out of turn');
        return answer.ipc;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
