/** A map thread: runs the map executor for the tasks the agent hands it, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { releaseReaderScratch } from '../aggregate/readers/index.ts';
import { mapExecutor } from '../executors/aggregate-map.ts';
import { BlockCache, createUrlStore } from '../storage/index.ts';
import { createLogger } from '../logger.ts';
import { internalFailure } from '../task-outcome.ts';
import type { FromThread, ThreadData, ToThread } from './messages.ts';

const port = parentPort!;
const { tempDir, storeTimeoutMs, cache, logFormat } = workerData as ThreadData;
const logger = createLogger({ format: logFormat }, { thread: 'map' });
const run = mapExecutor({
  tempDir,
  openStore: (store, urls) => createUrlStore(store, urls, { timeoutMs: storeTimeoutMs }),
  cache: cache
    ? new BlockCache({ ...cache, warn: (message, fields) => logger.warn(message, fields) })
    : null,
});
let controller: AbortController | null = null;

/**
 * A map reports progress after every batch, ~16 times a 1M-row file; posting each cost ~2 ms a
 * map. The thread posts a task's first report, then at most one per interval (the runner reports
 * less often still); the final figures travel with the result.
 */
const PROGRESS_POST_MS = 100;
let lastProgress = -Infinity;

const post = (message: FromThread) => port.postMessage(message);

port.on('message', (message: ToThread) => {
  if (message.type === 'abort') {
    controller?.abort();
    return;
  }
  const current = new AbortController();
  controller = current;
  lastProgress = -Infinity;
  void Promise.resolve()
    .then(() =>
      run({
        assignment: message.assignment,
        spec: message.spec,
        signal: current.signal,
        started: () => post({ type: 'started' }),
        log: () => undefined,
        progress: (figures) => {
          const now = performance.now();
          if (now - lastProgress < PROGRESS_POST_MS) return;
          lastProgress = now;
          post({ type: 'progress', figures });
        },
      }),
    )
    .catch(internalFailure)
    .then((outcome) => {
      // This thread runs the agent's next map too: it keeps none of this one's scratch.
      releaseReaderScratch();
      post({ type: 'done', outcome });
    });
});
