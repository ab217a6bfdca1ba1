/**
 * bench:aggregate: distributed group-bys over ≥10M rows of Parquet in the loopback S3, on the local
 * stack with 1, 2 and 3 agents, against DuckDB on the same files in the same run. The rows come as
 * 10 Snappy files, and, with one agent of as many slots as cores, also rewritten by DuckDB as one
 * ZSTD file of ~1M-row row groups and as 10 ZSTD files (BENCH_AGENTS, say `1`, and BENCH_ONE_SLOT=0
 * shorten a run to that one configuration). Each query runs
 * cold (the agents' caches emptied: every byte from S3) and warm (again, as a user's next query
 * over the same data: locality and the agents' caches at work; DuckDB's timed runs are warm too).
 * Warm figures are the median of BENCH_WARM_RUNS jobs, DuckDB's of as many runs, each right after
 * one of those jobs (the faster of two back to back), so that a ratio compares runs on the same machine at the same time (a shared
 * VM's speed drifts by tens of percent within minutes). New agents first run BENCH_WARMUP_JOBS
 * untimed jobs (20): agents are long-running, and their first ~20 jobs are ~10% slower while V8
 * compiles. DuckDB's figure is warm too (its first run untimed); cold figures are each a job's
 * first read of the data, against the DuckDB runs of that query's warm jobs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { agentCacheDir } from '../cli/local/agent-process.ts';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { LOCAL_BUCKET, startStack, type Stack } from '../cli/local/stack.ts';
import { freePort } from '../cli/local/ports.ts';
import { localStoreAccess } from '../cli/local/s3-server.ts';
import { createObjectStore } from '../worker-agent/storage/object-store.ts';
import { ensureSalesDataset, readParquetSql, type Dataset } from './lib/sales-dataset.ts';
import { zstdFiles, zstdSingleFile } from './lib/zstd-copies.ts';
import { QUERIES, type Aggregate, type Query } from './lib/sales-queries.ts';
import { percentile, rate } from './lib/stats.ts';

const FILES = Number(process.env.BENCH_FILES ?? 10);
const ROWS_PER_FILE = Number(process.env.BENCH_ROWS_PER_FILE ?? 1_000_000);
const AGENTS = (process.env.BENCH_AGENTS ?? '1,2,3').split(',').map(Number);
/** The series of one-slot agents, beside the one of agents with a slot per core. */
const ONE_SLOT = process.env.BENCH_ONE_SLOT !== '0';
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 5);
const WARMUP_JOBS = Number(process.env.BENCH_WARMUP_JOBS ?? 20);

const median = (samples: readonly number[]) =>
  percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );

/** DuckDB's threads: one per core, as the agents' map slots (its default, said outright). */
const DUCKDB_THREADS = availableParallelism();

/**
 * DuckDB over the same files, run between our jobs: each of its timed runs right after one of
 * ours, so that both see the same machine (a shared VM's speed drifts by tens of percent within
 * minutes; one DuckDB figure taken at the start made ratios of that drift).
 */
class DuckDB {
  /** Every timed run's seconds, per query name. */
  readonly seconds = new Map<string, number[]>();
  readonly rows = new Map<string, number>();

  private constructor(
    readonly connection: DuckDBConnection,
    private readonly source: string,
  ) {}

  static async open(files: readonly string[]): Promise<DuckDB> {
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    await connection.run(`SET threads = ${DUCKDB_THREADS}`);
    const duck = new DuckDB(connection, readParquetSql(files));
    // Untimed, as our warm-up jobs: the file cache and DuckDB's first run.
    for (const query of QUERIES) await duck.run(query);
    return duck;
  }

  /**
   * Runs the query twice and keeps the faster (the first may find the caches full of our job's
   * data): its seconds, kept among the query's samples.
   */
  async timed(query: Query): Promise<number> {
    const seconds = Math.min(await this.run(query), await this.run(query));
    this.seconds.set(query.name, [...(this.seconds.get(query.name) ?? []), seconds]);
    return seconds;
  }

  close(): void {
    this.connection.closeSync();
  }

  private async run(query: Query): Promise<number> {
    const started = performance.now();
    const sql = `WITH data AS (SELECT * FROM ${this.source}) ${query.sql}`;
    this.rows.set(query.name, (await this.connection.runAndReadAll(sql)).currentRowCount);
    return (performance.now() - started) / 1000;
  }
}

/** One data set under its own prefix in the store, and DuckDB over the same files. */
interface Bench {
  name: string;
  prefix: string;
  dataset: Dataset;
  duck: DuckDB;
  /** Run in every configuration; else only by one agent with a slot per core. */
  everywhere: boolean;
}

async function main(): Promise<void> {
  console.log(
    `bench:aggregate — ${FILES} Parquet files × ${ROWS_PER_FILE.toLocaleString('en')} rows`,
  );
  const snappy = ensureSalesDataset(FILES, ROWS_PER_FILE);
  const duck = await DuckDB.open(snappy.files);
  const single = await zstdSingleFile(duck.connection, snappy);
  const multi = await zstdFiles(duck.connection, snappy);
  const benches: Bench[] = [
    { name: `snappy ×${FILES}`, prefix: 'bench/sales/', dataset: snappy, duck, everywhere: true },
    {
      name: 'zstd ×1',
      prefix: 'bench/sales-zstd-one/',
      dataset: single,
      duck: await DuckDB.open(single.files),
      everywhere: false,
    },
    {
      name: `zstd ×${FILES}`,
      prefix: 'bench/sales-zstd/',
      dataset: multi,
      duck: await DuckDB.open(multi.files),
      everywhere: false,
    },
  ];
  // Agents with as many map slots as cores (the default), then with one each: on one 2-core
  // machine only the second series can show the work spreading over agents.
  const results = [...(await series(benches, null)), ...(ONE_SLOT ? await series(benches, 1) : [])];
  for (const bench of benches) bench.duck.close();
  console.log(
    `\nDuckDB (same files, local disk, ${DUCKDB_THREADS} threads; median of all its runs, one after each warm job)`,
  );
  for (const bench of benches) {
    for (const [name, samples] of bench.duck.seconds) {
      const seconds = median(samples);
      console.log(
        `${bench.name.padEnd(10)}  ${name.padEnd(40)} ${'duckdb'.padStart(6)}  ${seconds
          .toFixed(2)
          .padStart(7)} s  ${rate(bench.dataset.rows, seconds * 1000)
          .toLocaleString('en')
          .padStart(12)} rows/s`,
      );
    }
  }
  console.log(
    `\ndata       query                                    agents  slots  cache     wall                   throughput  vs DuckDB (wall, end to end: submit → result; warm: median of ${WARM_RUNS})`,
  );
  for (const line of results) console.log(line);
}

/**
 * Every query, cold and warm, on 1, 2 and 3 agents of `slots` map slots each (null: default): over
 * every data set with one agent of the default slots, else over those run `everywhere`.
 */
async function series(benches: readonly Bench[], slots: number | null): Promise<string[]> {
  const stateDir = mkdtempSync(join(tmpdir(), 'tm-bench-agg-'));
  const stack = await startStack({
    stateDir,
    port: await freePort(),
    agentPorts: [await freePort()],
    s3Port: await freePort(),
    ...(slots ? { agentSlots: slots } : {}),
  });
  const results: string[] = [];
  try {
    const store = createObjectStore(localStoreAccess(stack.s3!.endpoint, LOCAL_BUCKET));
    for (const bench of benches) {
      for (const file of bench.dataset.files)
        await store.put(`${bench.prefix}${basename(file)}`, readFileSync(file));
    }
    store.close();
    for (const count of AGENTS) {
      while (stack.agents.length < count) await stack.addAgent();
      const requestOf = (bench: Bench, query: Query): Aggregate => ({
        kind: 'aggregate',
        source: { store: LOCAL_BUCKET, prefix: bench.prefix, format: 'parquet' },
        ...query.request,
      });
      // Untimed, as DuckDB's first run: new agents start their map threads and V8 compiles them.
      for (let job = 0; job < WARMUP_JOBS; job++)
        await stack.client.submitJob(requestOf(benches[0]!, QUERIES[job % QUERIES.length]!), 300);
      for (const bench of benches) {
        if (!bench.everywhere && (count !== 1 || slots !== null)) continue;
        for (const query of QUERIES) {
          emptyCaches(stateDir, stack.agents);
          const cold = await timedJob(stack, requestOf(bench, query));
          const warm: Run[] = [];
          const theirs: number[] = [];
          for (let run = 0; run < WARM_RUNS; run++) {
            warm.push(await timedJob(stack, requestOf(bench, query)));
            theirs.push(await bench.duck.timed(query));
          }
          const reference = { seconds: median(theirs), rows: bench.duck.rows.get(query.name)! };
          const row = (cache: string, runs: Run[]) =>
            measured(bench, query, count, slots, cache, runs, reference);
          results.push(row('cold', [cold]), row('warm', warm));
          console.log(`${results.at(-2)}\n${results.at(-1)}`);
        }
      }
    }
  } catch (error) {
    console.error(`the stack's logs are kept in ${join(stateDir, 'logs')}`);
    await stack.stop();
    throw error;
  }
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
  return results;
}

interface Run {
  seconds: number;
  groups: number;
  cached: number;
}

/**
 * One job, timed from submit until the client holds the result (as Arrow, as DuckDB's caller holds
 * its rows), with its group count and the share its agents had cached.
 */
async function timedJob(stack: Stack, request: Aggregate): Promise<Run> {
  const started = performance.now();
  const job = await stack.client.submitJob(request, 300);
  if (job.state !== 'succeeded') throw new Error(`job ${job.state}: ${job.error}`);
  const result = tableFromIPC(await stack.client.resultArrow(job.id));
  const seconds = (performance.now() - started) / 1000;
  const groups = result.numRows;
  const cached = job.progress ? job.progress.bytesCached / job.progress.bytesRead : 0;
  return { seconds, groups, cached };
}

/** A result line: the median run's wall time (and the best, of several), against DuckDB's. */
function measured(
  bench: Bench,
  query: Query,
  agents: number,
  slots: number | null,
  cache: string,
  runs: readonly Run[],
  reference: { seconds: number; rows: number },
): string {
  const seconds = median(runs.map((run) => run.seconds));
  const best = Math.min(...runs.map((run) => run.seconds));
  const wrong = runs.find((run) => run.groups !== reference.rows);
  return [
    bench.name.padEnd(10),
    query.name.padEnd(40),
    String(agents).padStart(6),
    (slots ? String(slots) : 'cores').padStart(5),
    cache.padStart(5),
    `${seconds.toFixed(2).padStart(7)} s`,
    runs.length > 1 ? `(best ${best.toFixed(2)})` : ''.padEnd(11),
    `${rate(bench.dataset.rows, seconds * 1000)
      .toLocaleString('en')
      .padStart(12)} rows/s`,
    `${(seconds / reference.seconds).toFixed(1).padStart(6)}×`,
    `${Math.round(median(runs.map((run) => run.cached)) * 100)}% cached`.padStart(11),
    wrong ? `GROUPS DIFFER (${wrong.groups} vs ${reference.rows})` : 'groups match',
  ].join('  ');
}

/** Empties every agent's block cache (the agents make their directories again as they write). */
function emptyCaches(stateDir: string, agents: readonly { address: string }[]): void {
  for (const agent of agents)
    rmSync(agentCacheDir(stateDir, agent.address), { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
