/**
 * The sales data set's rows rewritten by DuckDB with ZSTD pages, as many writers do today: as one
 * file of ~1M-row row groups, and file for file. Written once, in folders beside the Snappy files'.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readParquetSql, type Dataset } from './sales-dataset.ts';

const ROW_GROUP_ROWS = 1_000_000;

/** `sql` copied to `path` as ZSTD Parquet of ~1M-row row groups, unless already there. */
async function copyOnce(db: DuckDBConnection, sql: string, path: string): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  const started = performance.now();
  await db.run(
    `COPY (${sql}) TO '${path}.partial' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
  );
  renameSync(`${path}.partial`, path);
  console.log(`  wrote ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Every row of `dataset` in one ZSTD file. */
export async function zstdSingleFile(db: DuckDBConnection, dataset: Dataset): Promise<Dataset> {
  const dir = `${dataset.dir}-zstd-one`;
  const path = join(dir, 'sales.parquet');
  await copyOnce(db, `SELECT * FROM ${readParquetSql(dataset.files)}`, path);
  return { dir, files: [path], rows: dataset.rows };
}

/** Each file of `dataset` as a ZSTD file of its own. */
export async function zstdFiles(db: DuckDBConnection, dataset: Dataset): Promise<Dataset> {
  const dir = `${dataset.dir}-zstd`;
  const files: string[] = [];
  for (const file of dataset.files) {
    const path = join(dir, basename(file));
    await copyOnce(db, `SELECT * FROM ${readParquetSql([file])}`, path);
    files.push(path);
  }
  return { dir, files, rows: dataset.rows };
}
