// Decodes Parquet with parquet-wasm in a worker thread: a panic in the decoder (which corrupt pages
// can cause, thrown from a promise callback where no caller can catch it) ends this worker, not the agent.
// Plain JavaScript because worker threads do not inherit the agent's tsx loader.
import { openAsBlob } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { ParquetFile } from 'parquet-wasm';

/** @param {unknown} error */
const describe = (error) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** @type {import('node:worker_threads').MessagePort} */
const port = /** @type {never} */ (parentPort);

/** @type {{ file?: string; bytes?: Uint8Array }} */
const source = workerData;

/** @type {ParquetFile | undefined} */
let parquet;
try {
  const blob =
    source.file !== undefined
      ? await openAsBlob(source.file)
      : new Blob([source.bytes ?? new Uint8Array()]);
  parquet = await ParquetFile.fromFile(blob);
  const metadata = parquet.metadata();
  const groups = metadata
    .rowGroups()
    .map((group) => ({ rows: group.numRows(), bytes: group.compressedSize() }));
  port.postMessage({ type: 'opened', groups });
} catch (error) {
  port.postMessage({ type: 'error', message: describe(error) });
}

port.on('message', async (/** @type {{ group: number; batchRows: number }} */ request) => {
  try {
    if (!parquet) throw new Error('the file did not open');
    const table = await parquet.read({ rowGroups: [request.group], batchSize: request.batchRows });
    const ipc = table.intoIPCStream();
    port.postMessage({ type: 'group', ipc }, [ipc.buffer]);
  } catch (error) {
    port.postMessage({ type: 'error', message: describe(error) });
  }
});
