/** SQLite schema of the Scheduler, as migrations versioned in code and applied once each on wake. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

/** Each entry moves the schema from version `index` to `index + 1`; never edit a landed one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE workers (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    slots INTEGER,
    agent_slots INTEGER,
    accepts_commands INTEGER NOT NULL DEFAULT 1,
    accepting INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL CHECK (state IN ('pending','ready','draining','lost','gone')),
    token_hash TEXT,
    conn_id TEXT,
    registered_at INTEGER NOT NULL,
    connected_at INTEGER,
    last_heartbeat_at INTEGER
  );
  CREATE UNIQUE INDEX workers_live_address ON workers(address) WHERE state != 'gone';
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    name TEXT,
    kind TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
    error TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    tasks_total INTEGER NOT NULL,
    n_succeeded INTEGER NOT NULL DEFAULT 0,
    n_failed INTEGER NOT NULL DEFAULT 0,
    n_cancelled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX jobs_state ON jobs(state, created_at);
  CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    cost INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued','assigned','running','succeeded','failed','cancelled')),
    attempt INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    worker_id TEXT,
    pinned_worker_id TEXT,
    exit_code INTEGER,
    error TEXT,
    result TEXT,
    log_bytes INTEGER NOT NULL DEFAULT 0,
    log_truncated INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    assigned_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX tasks_queue ON tasks(state, pinned_worker_id, cost, seq);
  CREATE INDEX tasks_worker ON tasks(worker_id, state);
  CREATE INDEX tasks_job ON tasks(job_id, idx);
  CREATE TABLE logs (
    seq INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL CHECK (stream IN ('stdout','stderr','system')),
    data TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX logs_task ON logs(task_id, seq);
  CREATE INDEX logs_job ON logs(job_id, seq);
  `,
  `
  CREATE TABLE object_stores (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    bucket TEXT NOT NULL,
    prefix TEXT NOT NULL,
    endpoint TEXT,
    region TEXT NOT NULL,
    force_path_style INTEGER NOT NULL,
    access_key_id TEXT,
    secret_access_key TEXT,
    session_token TEXT,
    created_at INTEGER NOT NULL
  );
  ALTER TABLE tasks ADD COLUMN spec TEXT;
  ALTER TABLE tasks ADD COLUMN progress TEXT;
  ALTER TABLE jobs ADD COLUMN phase TEXT;
  `,
  `
  ALTER TABLE jobs ADD COLUMN backoff_initial_ms INTEGER NOT NULL DEFAULT 1000;
  ALTER TABLE jobs ADD COLUMN backoff_max_ms INTEGER NOT NULL DEFAULT 60000;
  ALTER TABLE jobs ADD COLUMN max_lost INTEGER NOT NULL DEFAULT 5;
  ALTER TABLE jobs ADD COLUMN lease_ms INTEGER;
  ALTER TABLE jobs ADD COLUMN task_timeout_ms INTEGER;
  ALTER TABLE jobs ADD COLUMN deadline_at INTEGER;
  CREATE INDEX jobs_deadline ON jobs(state, deadline_at) WHERE deadline_at IS NOT NULL;
  ALTER TABLE tasks ADD COLUMN losses INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN not_before INTEGER;
  ALTER TABLE tasks ADD COLUMN deadline_at INTEGER;
  CREATE INDEX tasks_backoff ON tasks(state, not_before) WHERE not_before IS NOT NULL;
  CREATE INDEX tasks_deadline ON tasks(state, deadline_at) WHERE deadline_at IS NOT NULL;
  CREATE TABLE task_attempts (
    task_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    job_id TEXT NOT NULL,
    worker_id TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('succeeded','failed','timed_out','lost','cancelled')),
    error TEXT,
    exit_code INTEGER,
    assigned_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, attempt)
  ) WITHOUT ROWID;
  CREATE INDEX task_attempts_job ON task_attempts(job_id, outcome);
  `,
  `
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    weight INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE tenant_tokens (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE INDEX tenant_tokens_tenant ON tenant_tokens(tenant_id);
  CREATE TABLE auth_failures (
    client TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures INTEGER NOT NULL
  ) WITHOUT ROWID;
  ALTER TABLE jobs ADD COLUMN tenant_id TEXT;
  CREATE INDEX jobs_tenant ON jobs(tenant_id, created_at);
  ALTER TABLE tasks ADD COLUMN tenant_id TEXT;
  ALTER TABLE tasks ADD COLUMN pipeline_id TEXT;
  ALTER TABLE tasks ADD COLUMN requires TEXT;
  CREATE INDEX tasks_tenant_queue ON tasks(tenant_id, seq) WHERE state = 'queued';
  CREATE INDEX tasks_pipeline ON tasks(pipeline_id, state, seq) WHERE pipeline_id IS NOT NULL;
  CREATE INDEX tasks_pipeline_finished ON tasks(pipeline_id, finished_at) WHERE pipeline_id IS NOT NULL;
  ALTER TABLE workers ADD COLUMN public_key TEXT;
  ALTER TABLE workers ADD COLUMN executors TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  );
  CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (application_id, name)
  );
  CREATE TABLE pipeline_versions (
    pipeline_id TEXT NOT NULL REFERENCES pipelines(id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, version)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE split_reads (
    split TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    read_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX split_reads_age ON split_reads(read_at);
  ALTER TABLE tasks ADD COLUMN preferred_worker_id TEXT;
  CREATE INDEX tasks_preferred ON tasks(preferred_worker_id, seq)
    WHERE state = 'queued' AND preferred_worker_id IS NOT NULL;
  `,
  `
  CREATE TABLE cleanups (
    job_id TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  );
  `,
  `
  CREATE INDEX tasks_queued_maps ON tasks(seq)
    WHERE state = 'queued' AND kind = 'aggregate-map' AND pinned_worker_id IS NULL;
  `,
  // Workers join by approval; those whose agent already bound a key stay approved.
  `
  ALTER TABLE workers ADD COLUMN approved_at INTEGER;
  ALTER TABLE workers ADD COLUMN expected_fingerprint TEXT;
  UPDATE workers SET approved_at = registered_at WHERE public_key IS NOT NULL;
  `,
  // Tenant permissions (JSON, parsed with TenantPermissions; '{}' is the defaults) and queue quota.
  `
  ALTER TABLE tenants ADD COLUMN permissions TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE tenants ADD COLUMN max_queued_tasks INTEGER;
  `,
  // What each agent's command and pipeline tasks run in, as its hello said ('bwrap' or 'none').
  `
  ALTER TABLE workers ADD COLUMN isolation TEXT;
  `,
  // Retention (docs/storage.md): a job's own retention (null: the cluster's), the indexes that find
  // expired jobs, tombstones of removed jobs (pending = 1 while their rows are being deleted), and
  // the result folders of removed jobs still to delete from their stores.
  `
  ALTER TABLE jobs ADD COLUMN retention_ms INTEGER;
  CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
  CREATE INDEX jobs_own_expiry ON jobs(finished_at + retention_ms)
    WHERE finished_at IS NOT NULL AND retention_ms IS NOT NULL;
  CREATE TABLE removed_jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT,
    removed_at INTEGER NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('retention','cap')),
    pending INTEGER NOT NULL CHECK (pending IN (0,1))
  ) WITHOUT ROWID;
  CREATE INDEX removed_jobs_age ON removed_jobs(removed_at);
  CREATE INDEX removed_jobs_pending ON removed_jobs(removed_at) WHERE pending = 1;
  CREATE TABLE object_removals (
    job_id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // Bytes of results each job has stored (MAX_JOB_RESULT_BYTES), and echo results kept as a
  // reference to their job's payload rather than a copy per task.
  `
  ALTER TABLE jobs ADD COLUMN result_bytes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tasks ADD COLUMN result_is_payload INTEGER NOT NULL DEFAULT 0;
  `,
  // Dataflow jobs: each stage's state, the stage (and stream group) each task is an instance of,
  // each stream group's run (epoch) and data-plane secret, barrier arrivals, and the port where
  // each agent takes records from its peers.
  `
  CREATE TABLE dataflow_stages (
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting','running','succeeded','failed','cancelled')),
    error TEXT,
    started_at INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (job_id, idx)
  ) WITHOUT ROWID;
  ALTER TABLE tasks ADD COLUMN stage INTEGER;
  ALTER TABLE tasks ADD COLUMN gang INTEGER;
  CREATE INDEX tasks_stage ON tasks(job_id, stage, state) WHERE stage IS NOT NULL;
  CREATE INDEX tasks_gang ON tasks(job_id, gang, state) WHERE gang IS NOT NULL;
  CREATE TABLE dataflow_gangs (
    job_id TEXT NOT NULL,
    gang INTEGER NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 1,
    placed INTEGER NOT NULL DEFAULT 0,
    secret TEXT NOT NULL,
    waiting_for TEXT,
    PRIMARY KEY (job_id, gang)
  ) WITHOUT ROWID;
  CREATE INDEX dataflow_gangs_waiting ON dataflow_gangs(placed);
  CREATE TABLE dataflow_barriers (
    job_id TEXT NOT NULL,
    gang INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    name TEXT NOT NULL,
    instance INTEGER NOT NULL,
    PRIMARY KEY (job_id, gang, epoch, stage, name, instance)
  ) WITHOUT ROWID;
  ALTER TABLE workers ADD COLUMN data_port INTEGER;
  `,
  // Dataflow stages that run a job of their own (aggregate stages): the job each one launched.
  `
  CREATE TABLE dataflow_stage_jobs (
    job_id TEXT NOT NULL,
    stage INTEGER NOT NULL,
    child_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (job_id, stage)
  ) WITHOUT ROWID;
  `,
  // Prometheus counters (and histograms' buckets and sums), written in the transactions that change
  // what they count, so a restart keeps them (durable-objects/metric-tally.ts).
  `
  CREATE TABLE metric_counters (
    name TEXT NOT NULL,
    labels TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (name, labels)
  ) WITHOUT ROWID;
  `,
  // The dashboard's throughput chart (GET /v1/throughput): task and attempt ends by time.
  `
  CREATE INDEX tasks_finished ON tasks(finished_at) WHERE finished_at IS NOT NULL;
  CREATE INDEX task_attempts_finished ON task_attempts(finished_at);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to date (or up to version `target`, for tests of a migration); idempotent,
 * gated by the `schema_version` row.
 */
export function migrate(sql: Sql, target = SCHEMA_VERSION): void {
  const hasMeta = sql.row(
    z.object({ name: z.string() }),
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`,
  );
  const current = hasMeta
    ? Number(
        sql.row(
          z.object({ value: z.string() }),
          `SELECT value FROM meta WHERE key = 'schema_version'`,
        )?.value ?? 0,
      )
    : 0;
  if (current > SCHEMA_VERSION) {
    throw new Error(`stored schema version ${current} is newer than this code (${SCHEMA_VERSION})`);
  }
  for (let version = current; version < target; version++) {
    sql.transaction(() => {
      for (const statement of splitStatements(MIGRATIONS[version] ?? '')) sql.run(statement);
      sql.run(
        `INSERT INTO meta (key, value) VALUES ('schema_version', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        String(version + 1),
      );
    });
  }
}

function splitStatements(script: string): string[] {
  return script
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}
