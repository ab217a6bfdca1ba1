/** Demo step 2: a distributed group-by over the sample Parquet data, with progress and the top rows. */
import { ProgressBar } from '../progress.ts';
import { isEndState } from '../../protocol/index.ts';
import type { JobView } from '../../protocol/index.ts';
import type { TmClient } from '../sdk/client.ts';
import { renderTable } from '../format/table.ts';
import { ensureSampleData, SAMPLE_PREFIX } from '../local/sample-upload.ts';
import { LOCAL_BUCKET } from '../local/stack.ts';

const FILES = 6;
const ROWS_PER_FILE = 500_000;

export const DEMO_AGGREGATE = {
  kind: 'aggregate' as const,
  name: 'demo: sales by region',
  source: { store: LOCAL_BUCKET, prefix: SAMPLE_PREFIX, format: 'parquet' as const },
  groupBy: ['region'],
  aggregates: [
    { op: 'count' as const, as: 'orders' },
    { op: 'sum' as const, column: 'price', as: 'revenue' },
    { op: 'avg' as const, column: 'quantity', as: 'avg_quantity' },
    { op: 'count_distinct' as const, column: 'product', as: 'products' },
  ],
  orderBy: [{ column: 'revenue', desc: true }],
};

export async function aggregateStep(
  client: TmClient,
  say: (line: string) => void,
): Promise<JobView> {
  const store = (await client.listStores()).find((s) => s.name === LOCAL_BUCKET);
  if (!store?.endpoint)
    throw new Error(
      `the local store ${LOCAL_BUCKET} is not registered (start the stack with \`npm start\`)`,
    );
  say(`\n2. a distributed group-by over Parquet in s3://${LOCAL_BUCKET}/${SAMPLE_PREFIX}`);
  const rows = await ensureSampleData(client, store.endpoint, {
    files: FILES,
    rowsPerFile: ROWS_PER_FILE,
    log: say,
  });
  say(
    `   ${rows.toLocaleString('en')} rows in ${FILES} Parquet files; query: ${JSON.stringify({ groupBy: DEMO_AGGREGATE.groupBy, aggregates: DEMO_AGGREGATE.aggregates })}`,
  );
  const started = performance.now();
  const job = await client.submitJob(DEMO_AGGREGATE);
  const done = await watch(client, job.id, say);
  const seconds = (performance.now() - started) / 1000;
  if (done.state !== 'succeeded') {
    say(`   job ${done.id} ${done.state}: ${done.error ?? ''}`);
    return done;
  }
  const result = await client.result(done.id);
  const read = done.progress?.rowsRead ?? rows;
  say(
    `   job ${done.id} succeeded in ${seconds.toFixed(2)} s: ${read.toLocaleString('en')} rows, ${Math.round(read / seconds).toLocaleString('en')} rows/s, ${done.counts.succeeded} tasks${cacheNote(done)}\n`,
  );
  say(
    renderTable(
      result.columns.map((c) => c.name),
      result.rows,
    ).replace(/^/gm, '   '),
  );
  return done;
}

/** Polls the job with the CLI's progress bar on a terminal; elsewhere says where it ended. */
async function watch(client: TmClient, id: string, say: (line: string) => void): Promise<JobView> {
  const bar = new ProgressBar(process.stdout);
  try {
    for (;;) {
      const job = await client.getJob(id, 0);
      bar.update(job);
      if (isEndState(job.state)) {
        if (!bar.enabled) say(summary(job));
        return client.getJob(id);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    bar.finish();
  }
}

/** How much of the input the agents' caches served (a second demo run reads it from them). */
function cacheNote(job: JobView): string {
  const p = job.progress;
  if (!p || p.bytesCached === 0 || p.bytesRead === 0) return '';
  return `, ${Math.round((100 * p.bytesCached) / p.bytesRead)}% of the bytes from the agents' caches`;
}

function summary(job: JobView): string {
  const p = job.progress;
  return p
    ? `   ${p.phase}: ${p.tasksDone}/${p.tasksTotal} tasks, ${p.rowsRead.toLocaleString('en')} rows read`
    : `   ${job.state}`;
}
