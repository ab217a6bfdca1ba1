/**
 * Applications, pipelines and pipeline versions in SQLite. Every lookup starts from a tenant: an
 * application is found only by its tenant and name, a pipeline only inside its application.
 */
import type { PipelineSpec } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';

export interface ApplicationRow {
  id: string;
  tenant_id: string;
  name: string;
  created_at: number;
}

export interface PipelineRow {
  id: string;
  application_id: string;
  name: string;
  /** The latest version. */
  version: number;
  created_at: number;
  updated_at: number;
}

export interface VersionRow {
  pipeline_id: string;
  version: number;
  definition: string;
  created_at: number;
}

export function findApplication(sql: Sql, tenantId: string, name: string): ApplicationRow | null {
  return sql.first<ApplicationRow>(
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
  return sql.all<ApplicationRow>(
    `SELECT * FROM applications WHERE tenant_id = ? ORDER BY name`,
    tenantId,
  );
}

export function findPipeline(sql: Sql, applicationId: string, name: string): PipelineRow | null {
  return sql.first<PipelineRow>(
    `SELECT * FROM pipelines WHERE application_id = ? AND name = ?`,
    applicationId,
    name,
  );
}

export function listPipelines(sql: Sql, applicationId: string): PipelineRow[] {
  return sql.all<PipelineRow>(
    `SELECT * FROM pipelines WHERE application_id = ? ORDER BY name`,
    applicationId,
  );
}

export function findVersion(sql: Sql, pipelineId: string, version: number): VersionRow | null {
  return sql.first<VersionRow>(
    `SELECT * FROM pipeline_versions WHERE pipeline_id = ? AND version = ?`,
    pipelineId,
    version,
  );
}

export const specOf = (row: VersionRow): PipelineSpec => JSON.parse(row.definition) as PipelineSpec;

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
    sql.first<{ n: number }>(
      `SELECT count(*) AS n FROM tasks
       WHERE pipeline_id = ? AND state IN ('queued','assigned','running')`,
      pipelineId,
    )?.n ?? 0
  );
}
