// Decodes Parquet with parquet-wasm in a worker thread: a panic in the decoder (which corrupt pages
// can cause, thrown from a promise callback where no caller can catch it) ends this worker, not the agent.
// The thread stays alive between files (loading the wasm costs as much as decoding a million rows);
// it serves one file at a time: `open`, then `read` row groups, then `release`.
// Plain JavaScript because worker threads do not inherit the agent's tsx loader.
import { openAsBlob } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { ParquetFile } from 'parquet-wasm';

/** @param {unknown} error */
const describe = (error) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** @type {import('node:worker_threads').MessagePort} */
const port = /** @type {never} */ (parentPort);

/** @type {ParquetFile | undefined} */
let parquet;

/** @param {{ file?: string; bytes?: Uint8Array }} source */
async function open(source) {
  parquet?.free();
  parquet = undefined;
  const blob =
    source.file !== undefined
      ? await openAsBlob(source.file)
      : new Blob([source.bytes ?? new Uint8Array()]);
  parquet = await ParquetFile.fromFile(blob);
  const rowGroups = parquet.metadata().rowGroups();
  const groups = rowGroups.map((group) => ({
    rows: group.numRows(),
    bytes: group.compressedSize(),
  }));
  const columns = [
    ...new Set((rowGroups[0]?.columns() ?? []).map((chunk) => chunk.columnPath()[0])),
  ];
  port.postMessage({ type: 'opened', groups, columns });
}

/** @param {{ group: number; batchRows: number; columns?: string[] }} request */
async function read(request) {
  if (!parquet) throw new Error('no file is open');
  const table = await parquet.read({
    rowGroups: [request.group],
    batchSize: request.batchRows,
    ...(request.columns ? { columns: request.columns } : {}),
  });
  const ipc = table.intoIPCStream();
  port.postMessage({ type: 'group', ipc }, [ipc.buffer]);
}

port.on('message', async (/** @type {any} */ message) => {
  try {
    if (message.type === 'open') await open(message.source);
    else if (message.type === 'read') await read(message);
    else if (message.type === 'release') {
      parquet?.free();
      parquet = undefined;
      port.postMessage({ type: 'released' });
    }
  } catch (error) {
    port.postMessage({ type: 'error', message: describe(error) });
  }
});
