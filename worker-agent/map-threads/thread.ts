/** A map thread: runs the map executor for the tasks the agent hands it, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { mapExecutor } from '../executors/aggregate-map.ts';
import { BlockCache, createObjectStore } from '../storage/index.ts';
import { internalFailure } from '../task-outcome.ts';
import type { FromThread, ThreadData, ToThread } from './messages.ts';

const port = parentPort!;
const { tempDir, storeTimeoutMs, cache } = workerData as ThreadData;
const run = mapExecutor({
  tempDir,
  openStore: (access) => createObjectStore(access, { timeoutMs: storeTimeoutMs }),
  cache: cache ? new BlockCache(cache) : null,
});
let controller: AbortController | null = null;

const post = (message: FromThread) => port.postMessage(message);

port.on('message', (message: ToThread) => {
  if (message.type === 'abort') {
    controller?.abort();
    return;
  }
  const current = new AbortController();
  controller = current;
  void Promise.resolve()
    .then(() =>
      run({
        assignment: message.assignment,
        spec: message.spec,
        signal: current.signal,
        started: () => post({ type: 'started' }),
        log: () => undefined,
        progress: (figures) => post({ type: 'progress', figures }),
      }),
    )
    .catch(internalFailure)
    .then((outcome) => post({ type: 'done', outcome }));
});
