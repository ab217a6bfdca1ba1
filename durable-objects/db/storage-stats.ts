/** Row counts of the Scheduler's tables, for the storage report (durable-objects/storage-report.ts). */
import { z } from 'zod';
import type { Sql } from './sql.ts';
import { Count } from './rows.ts';

const Name = z.object({ name: z.string().regex(/^[a-z_]+$/) });

/** Every table of the schema (SQLite's and the platform's own left out), by name. */
function tableNames(sql: Sql): string[] {
  return sql
    .rows(
      Name,
      `SELECT name FROM sqlite_master
       WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name`,
    )
    .map((row) => row.name);
}

/** Rows of every table; each count scans its table, so this is for an admin's report only. */
export function tableRowCounts(sql: Sql): Record<string, number> {
  return Object.fromEntries(
    tableNames(sql).map((name) => [
      name,
      sql.row(Count, `SELECT count(*) AS n FROM "${name}"`)?.n ?? 0,
    ]),
  );
}

/** The finished job kept longest (not one being removed), or null. */
export function oldestKeptJob(sql: Sql): { id: string; finishedAt: number } | null {
  const row = sql.row(
    z.object({ id: z.string(), finished_at: z.number() }),
    `SELECT id, finished_at FROM jobs WHERE finished_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM removed_jobs r WHERE r.id = jobs.id)
     ORDER BY finished_at LIMIT 1`,
  );
  return row ? { id: row.id, finishedAt: row.finished_at } : null;
}

/** Removals under way: jobs whose rows are being deleted, result folders left, tombstones kept. */
export function removalCounts(sql: Sql): {
  pendingJobs: number;
  pendingObjectFolders: number;
  tombstones: number;
} {
  const n = (query: string) => sql.row(Count, query)?.n ?? 0;
  return {
    pendingJobs: n(`SELECT count(*) AS n FROM removed_jobs WHERE pending = 1`),
    pendingObjectFolders: n(`SELECT count(*) AS n FROM object_removals`),
    tombstones: n(`SELECT count(*) AS n FROM removed_jobs`),
  };
}
