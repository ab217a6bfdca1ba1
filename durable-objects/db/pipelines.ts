/**
 * Applications, pipelines and pipeline versions in SQLite. Every lookup starts from a tenant: an
 * application is found only by its tenant and name, a pipeline only inside its application.
 */
import { z } from 'zod';
import { PipelineSpec } from '../../protocol/index.ts';
import { parseJsonColumn } from './json-column.ts';
import { Count, LIVE_TASK_STATES } from './rows.ts';
import type { Sql } from './sql.ts';

export const ApplicationRow = z.object({
  id: z.string(),
  tenant_id: z.string(),
  name: z.string(),
  created_at: z.number(),
});
export type ApplicationRow = z.infer<typeof ApplicationRow>;

export const PipelineRow = z.object({
  id: z.string(),
  application_id: z.string(),
  name: z.string(),
  /** The latest version. */
  version: z.number().int(),
  created_at: z.number(),
  updated_at: z.number(),
});
export type PipelineRow = z.infer<typeof PipelineRow>;

export const VersionRow = z.object({
  pipeline_id: z.string(),
  version: z.number().int(),
  definition: z.string(),
  created_at: z.number(),
});
export type VersionRow = z.infer<typeof VersionRow>;

export function findApplication(sql: Sql, tenantId: string, name: string): ApplicationRow | null {
  return sql.row(
    ApplicationRow,
    `SELECT * FROM applications WHERE tenant_id = ? AND name = ?`,
    tenantId,
    name,
  );
}

/** The tenant's application of this name, created on first use. */
export function ensureApplication(
  sql: Sql,
  tenantId: string,
  name: string,
  now: number,
): ApplicationRow {
  sql.run(
    `INSERT INTO applications (id, tenant_id, name, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (tenant_id, name) DO NOTHING`,
    crypto.randomUUID(),
    tenantId,
    name,
    now,
  );
  const row = findApplication(sql, tenantId, name);
  if (!row) throw new Error(`application ${name} vanished after insert`);
  return row;
}

export function listApplications(sql: Sql, tenantId: string): ApplicationRow[] {
  return sql.rows(
    ApplicationRow,
    `SELECT * FROM applications WHERE tenant_id = ? ORDER BY name`,
    tenantId,
  );
}

export function findPipeline(sql: Sql, applicationId: string, name: string): PipelineRow | null {
  return sql.row(
    PipelineRow,
    `SELECT * FROM pipelines WHERE application_id = ? AND name = ?`,
    applicationId,
    name,
  );
}

export function listPipelines(sql: Sql, applicationId: string): PipelineRow[] {
  return sql.rows(
    PipelineRow,
    `SELECT * FROM pipelines WHERE application_id = ? ORDER BY name`,
    applicationId,
  );
}

export function findVersion(sql: Sql, pipelineId: string, version: number): VersionRow | null {
  return sql.row(
    VersionRow,
    `SELECT * FROM pipeline_versions WHERE pipeline_id = ? AND version = ?`,
    pipelineId,
    version,
  );
}

export const specOf = (row: VersionRow): PipelineSpec =>
  parseJsonColumn(PipelineSpec, row.definition, 'pipeline_versions.definition');

export interface SavedPipeline {
  row: PipelineRow;
  /** The pipeline did not exist before. */
  created: boolean;
  /** A new version was stored (false when the definition equals the latest one). */
  changed: boolean;
}

/** Stores a definition as the pipeline's next version, unless it equals the latest. */
export function saveVersion(
  sql: Sql,
  application: ApplicationRow,
  name: string,
  spec: PipelineSpec,
  now: number,
): SavedPipeline {
  const definition = JSON.stringify(spec);
  const existing = findPipeline(sql, application.id, name);
  if (existing && findVersion(sql, existing.id, existing.version)?.definition === definition) {
    return { row: existing, created: false, changed: false };
  }
  const id = existing?.id ?? crypto.randomUUID();
  const version = (existing?.version ?? 0) + 1;
  if (existing) {
    sql.run(`UPDATE pipelines SET version = ?, updated_at = ? WHERE id = ?`, version, now, id);
  } else {
    sql.run(
      `INSERT INTO pipelines (id, application_id, name, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      application.id,
      name,
      version,
      now,
      now,
    );
  }
  sql.run(
    `INSERT INTO pipeline_versions (pipeline_id, version, definition, created_at) VALUES (?, ?, ?, ?)`,
    id,
    version,
    definition,
    now,
  );
  const row = findPipeline(sql, application.id, name);
  if (!row) throw new Error(`pipeline ${name} vanished after insert`);
  return { row, created: !existing, changed: true };
}

/** Removes a pipeline with its versions; its ended tasks stay, as jobs. */
export function deletePipelineRows(sql: Sql, pipelineId: string): void {
  sql.run(`DELETE FROM pipeline_versions WHERE pipeline_id = ?`, pipelineId);
  sql.run(`DELETE FROM pipelines WHERE id = ?`, pipelineId);
}

/** Tasks of the pipeline not yet ended (queued, assigned or running), whatever their version. */
export function liveTaskCount(sql: Sql, pipelineId: string): number {
  return (
    sql.row(
      Count,
      `SELECT count(*) AS n FROM tasks
       WHERE pipeline_id = ? AND state IN ('queued','assigned','running')`,
      pipelineId,
    )?.n ?? 0
  );
}

/** Every stored version of a pipeline. */
export function versionsOf(sql: Sql, pipelineId: string): VersionRow[] {
  return sql.rows(VersionRow, `SELECT * FROM pipeline_versions WHERE pipeline_id = ?`, pipelineId);
}

/** Whether any pipeline exists. */
export function hasPipelines(sql: Sql): boolean {
  return (
    sql.row(z.object({ found: z.number() }), `SELECT 1 AS found FROM pipelines LIMIT 1`) !== null
  );
}

/** Tasks of a pipeline in a state, or live (`assigned` or `running`) when `state` is 'live'. */
export function pipelineTaskCount(sql: Sql, pipelineId: string, state: 'queued' | 'live'): number {
  const where = state === 'queued' ? `state = 'queued'` : `state IN ${LIVE_TASK_STATES}`;
  return (
    sql.row(Count, `SELECT count(*) AS n FROM tasks WHERE pipeline_id = ? AND ${where}`, pipelineId)
      ?.n ?? 0
  );
}

/** A pipeline's tasks that ended since `since`, counted by state. */
export function pipelineEnds(sql: Sql, pipelineId: string, since: number): Map<string, number> {
  const rows = sql.rows(
    z.object({ state: z.string(), n: z.number().int() }),
    `SELECT state, count(*) AS n FROM tasks
     WHERE pipeline_id = ? AND finished_at >= ? GROUP BY state`,
    pipelineId,
    since,
  );
  return new Map(rows.map((row) => [row.state, row.n]));
}

/** The mean run time (ms) of a pipeline's last `sample` successes, or null for none. */
export function meanRunMs(sql: Sql, pipelineId: string, sample: number): number | null {
  return (
    sql.row(
      z.object({ ms: z.number().nullable() }),
      `SELECT avg(finished_at - coalesce(started_at, assigned_at)) AS ms FROM (
         SELECT finished_at, started_at, assigned_at FROM tasks
         WHERE pipeline_id = ? AND state = 'succeeded' ORDER BY finished_at DESC LIMIT ?)`,
      pipelineId,
      sample,
    )?.ms ?? null
  );
}
