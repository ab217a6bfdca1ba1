/** How far an aggregation has come: rows and bytes read by its maps, tasks done, the phase. */
import type { AggregateProgress, MapResult } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import type { JobRow } from './db/rows.ts';
import { aggregateMaps } from './db/tasks.ts';

export function aggregateProgress(sql: Sql, job: JobRow): AggregateProgress {
  let rowsRead = 0;
  let bytesRead = 0;
  let bytesCached = 0;
  const maps = aggregateMaps(sql, job.id);
  for (const map of maps) {
    const read = (map.state === 'succeeded' ? map.result : map.progress) ?? null;
    if (!read) continue;
    const figures = JSON.parse(read) as Pick<MapResult, 'rowsRead' | 'bytesRead'> &
      Partial<Pick<MapResult, 'bytesCached'>>;
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
