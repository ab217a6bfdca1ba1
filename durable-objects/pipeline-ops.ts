/**
 * Application and pipeline operations behind the HTTP API: define (a new version each time the
 * definition changes), read with load figures, list, delete. Everything is looked up inside the
 * caller's tenant: another tenant's application is "not found", like one that does not exist.
 */
import {
  normalizeDefinition,
  requiredExecutors,
  type ApplicationView,
  type CreatePipelineRequest,
  type PipelineView,
} from '../protocol/index.ts';
import type { Core } from './core.ts';
import { conflict, notFound } from './failure.ts';
import { iso } from './views.ts';
import { liveJobsOfPipeline } from './db/tasks.ts';
import {
  deletePipelineRows,
  ensureApplication,
  findApplication,
  findPipeline,
  findVersion,
  listApplications as listApplicationRows,
  listPipelines as listPipelineRows,
  liveTaskCount,
  saveVersion,
  specOf,
  type ApplicationRow,
  type PipelineRow,
} from './db/pipelines.ts';
import { readPipelineObject } from './pipeline-source.ts';
import { pipelineStats } from './pipeline-stats.ts';
import { checkPipelineSteps, checkStoreRead } from './tenant-access.ts';

function findOwnApplication(core: Core, tenantId: string, name: string): ApplicationRow {
  const row = findApplication(core.sql, tenantId, name);
  if (!row) throw notFound('application', name);
  return row;
}

export function findOwnPipeline(
  core: Core,
  tenantId: string,
  application: string,
  name: string,
): { application: ApplicationRow; pipeline: PipelineRow } {
  const app = findOwnApplication(core, tenantId, application);
  const pipeline = findPipeline(core.sql, app.id, name);
  if (!pipeline) throw notFound('pipeline', `${application}/${name}`);
  return { application: app, pipeline };
}

/** Creates the pipeline (and its application) or adds a version; unchanged definitions add none. */
export async function definePipeline(
  core: Core,
  tenantId: string,
  application: string,
  request: CreatePipelineRequest,
): Promise<{ pipeline: PipelineView; created: boolean }> {
  if ('from' in request) checkStoreRead(core.sql, tenantId, request.from.store, request.from.key);
  const definition =
    'from' in request
      ? await readPipelineObject(core.sql, request.name, request.from)
      : withoutName(request);
  const spec = normalizeDefinition(definition);
  checkPipelineSteps(core.sql, tenantId, spec.pipeline);
  const now = core.now();
  const saved = core.sql.transaction(() => {
    const app = ensureApplication(core.sql, tenantId, application, now);
    return { app, ...saveVersion(core.sql, app, request.name, spec, now) };
  });
  return { pipeline: pipelineView(core, saved.app, saved.row), created: saved.created };
}

function withoutName<T extends { name: string }>(request: T): Omit<T, 'name'> {
  const { name: _name, ...rest } = request;
  return rest;
}

export function getPipeline(
  core: Core,
  tenantId: string,
  application: string,
  name: string,
  version?: number,
): PipelineView {
  const found = findOwnPipeline(core, tenantId, application, name);
  return pipelineView(core, found.application, found.pipeline, version);
}

export function listPipelines(core: Core, tenantId: string, application: string): PipelineView[] {
  const app = findOwnApplication(core, tenantId, application);
  return listPipelineRows(core.sql, app.id).map((row) => pipelineView(core, app, row));
}

/** Deletes a pipeline with its versions; refused while any of its tasks has not ended. */
export function deletePipeline(
  core: Core,
  tenantId: string,
  application: string,
  name: string,
): PipelineView {
  const found = findOwnPipeline(core, tenantId, application, name);
  const view = pipelineView(core, found.application, found.pipeline);
  const live = liveTaskCount(core.sql, found.pipeline.id);
  if (live > 0) {
    const jobs = liveJobsOfPipeline(core.sql, found.pipeline.id);
    throw conflict(
      `pipeline ${application}/${name} has ${live} unfinished tasks; cancel their jobs ` +
        '(POST /v1/jobs/{id}/cancel) or wait for them to end, then delete it',
      { jobs },
    );
  }
  core.sql.transaction(() => deletePipelineRows(core.sql, found.pipeline.id));
  return view;
}

export function listApplications(core: Core, tenantId: string): ApplicationView[] {
  return listApplicationRows(core.sql, tenantId).map((row) => applicationView(core, row));
}

export function getApplication(core: Core, tenantId: string, name: string): ApplicationView {
  return applicationView(core, findOwnApplication(core, tenantId, name));
}

function applicationView(core: Core, row: ApplicationRow): ApplicationView {
  return {
    name: row.name,
    createdAt: iso(row.created_at),
    pipelines: listPipelineRows(core.sql, row.id).map((pipeline) => ({
      name: pipeline.name,
      version: pipeline.version,
      updatedAt: iso(pipeline.updated_at),
    })),
  };
}

function pipelineView(
  core: Core,
  application: ApplicationRow,
  row: PipelineRow,
  version = row.version,
): PipelineView {
  const shown = findVersion(core.sql, row.id, version);
  const latest = findVersion(core.sql, row.id, row.version);
  if (!shown || !latest)
    throw notFound('pipeline version', `${application.name}/${row.name}@${version}`);
  const definition = specOf(shown);
  return {
    application: application.name,
    name: row.name,
    version,
    latestVersion: row.version,
    definition,
    executors: requiredExecutors(definition.pipeline),
    versionCreatedAt: iso(shown.created_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    stats: pipelineStats(core.sql, row.id, specOf(latest), core.now()),
  };
}
