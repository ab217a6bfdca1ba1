/** How far an aggregation has come: rows and bytes read by its maps, tasks done, the phase. */
import { z } from 'zod';
import type { AggregateProgress } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { JobRow } from './db/rows.ts';
import { aggregateMaps } from './db/tasks.ts';
import { parseJsonColumn } from './db/json-column.ts';

/** What a map reported so far (its progress) or in the end (its result): the figures counted. */
const MapFigures = z.object({
  rowsRead: z.number(),
  bytesRead: z.number(),
  bytesCached: z.number().optional(),
});

export function aggregateProgress(sql: Sql, job: JobRow): AggregateProgress {
  let rowsRead = 0;
  let bytesRead = 0;
  let bytesCached = 0;
  const maps = aggregateMaps(sql, job.id);
  for (const map of maps) {
    const read = (map.state === 'succeeded' ? map.result : map.progress) ?? null;
    if (!read) continue;
    const figures = parseJsonColumn(MapFigures, read, 'tasks.result or tasks.progress');
    rowsRead += figures.rowsRead;
    bytesRead += figures.bytesRead;
    bytesCached += figures.bytesCached ?? 0;
  }
  const phase =
    job.state === 'succeeded' ? 'done' : ((job.phase ?? 'map') as AggregateProgress['phase']);
  return {
    phase,
    rowsRead,
    bytesRead,
    bytesCached,
    tasksDone: job.n_succeeded,
    // The final step is counted from the start, so that a job never shows all its tasks done
    // before it ends; reduces, when partials are too large to travel inline, join after the maps.
    tasksTotal: job.tasks_total + (phase === 'map' || phase === 'reduce' ? 1 : 0),
  };
}
