/** The benchmark's data set: sales rows as Parquet files, generated once and cached under .tm/. */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../cli/local/repo.ts';
import { salesTable, toParquet } from '../../cli/local/sample-data.ts';

export interface Dataset {
  dir: string;
  files: string[];
  rows: number;
}

/** `files` Parquet files of `rowsPerFile` rows, reused when already generated. */
export function ensureSalesDataset(files: number, rowsPerFile: number): Dataset {
  const dir = join(repoRoot, '.tm', 'bench-data', `sales-${files}x${rowsPerFile}`);
  mkdirSync(dir, { recursive: true });
  for (let file = 0; file < files; file++) {
    const path = join(dir, `part-${String(file).padStart(3, '0')}.parquet`);
    if (existsSync(path)) continue;
    const started = performance.now();
    writeFileSync(path, toParquet(salesTable(1000 + file, rowsPerFile)));
    console.log(`  generated ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.parquet'))
    .sort()
    .slice(0, files);
  return { dir, files: names.map((name) => join(dir, name)), rows: files * rowsPerFile };
}

/** DuckDB's table function over `files`. */
export const readParquetSql = (files: readonly string[]) =>
  `read_parquet([${files.map((file) => `'${file}'`).join(', ')}])`;
