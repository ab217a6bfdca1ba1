/**
 * Run as a child (`node --expose-gc --import tsx`) by test/unit/map-memory.test.ts: one map task,
 * through the agents' map executor, over a generated Parquet file of `ROWS` rows held in memory.
 * After every batch it collects garbage and notes the heap and array buffers in use; it prints,
 * as JSON, the most the map held beyond what was in use before it began (the file itself).
 */
import { tmpdir } from 'node:os';
import { salesTable, toParquet } from '../../cli/local/sample-data.ts';
import { mapExecutor } from '../../worker-agent/executors/aggregate-map.ts';
import { memoryStore } from '../../bench/lib/memory-store.ts';
import type { Assignment } from '../../protocol/index.ts';
import type { MapSpec } from '../../worker-agent/task-outcome.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const rows = Number(process.argv[2]);
const file = toParquet(salesTable(1, rows));
const inUse = () => {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

const store = { bucket: 'memory' };
const spec: MapSpec = {
  kind: 'aggregate-map',
  query: {
    filter: [{ column: 'quantity', op: '>=', value: 5 }],
    groupBy: ['product'],
    aggregates: [
      { op: 'count' },
      { op: 'sum', column: 'price' },
      { op: 'avg', column: 'quantity' },
    ],
  },
  format: 'parquet',
  source: store,
  input: { key: 'sales.parquet', size: file.byteLength },
  inputUrl: 'http://memory/sales.parquet',
  partitions: 4,
  output: store,
  outputPrefix: 'out/',
  outputUrls: [0, 1, 2, 3].map((p) => `http://memory/out/part-${p}.arrow`),
  inlineBytes: 512 * 1024,
};
const run = mapExecutor({
  tempDir: tmpdir(),
  openStore: () => memoryStore(new Map([['sales.parquet', file]])),
});
// parquet-wasm frees the writer's memory through finalizers, which run after a collection: let
// them, so that what the file's making left behind does not count against the map.
for (let round = 0; round < 5; round++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const before = inUse();
let peak = 0;
let batches = 0;
const seen: number[] = [];
const outcome = await run({
  assignment: {} as Assignment,
  spec,
  signal: new AbortController().signal,
  started: () => undefined,
  log: () => undefined,
  progress: () => {
    batches++;
    const held = inUse() - before;
    seen.push(held);
    peak = Math.max(peak, held);
  },
});
if (!outcome.ok) throw new Error(`the map failed: ${JSON.stringify(outcome)}`);
console.log(JSON.stringify({ rows, batches, fileBytes: file.byteLength, peak, seen }));
