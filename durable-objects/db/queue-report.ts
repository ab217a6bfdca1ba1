/** Live tasks counted by tenant and pipeline, with their names: the queue as the admin sees it. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

const Row = z.object({
  tenant: z.string().nullable(),
  application: z.string().nullable(),
  pipeline: z.string().nullable(),
  queued: z.number().int(),
  running: z.number().int(),
});
export type QueueRow = z.infer<typeof Row>;

export function queueRows(sql: Sql): QueueRow[] {
  return sql.rows(
    Row,
    `SELECT tn.name AS tenant, a.name AS application, p.name AS pipeline,
            sum(t.state = 'queued') AS queued, sum(t.state <> 'queued') AS running
     FROM tasks t
     LEFT JOIN tenants tn ON tn.id = t.tenant_id
     LEFT JOIN pipelines p ON p.id = t.pipeline_id
     LEFT JOIN applications a ON a.id = p.application_id
     WHERE t.state IN ('queued','assigned','running')
     GROUP BY t.tenant_id, t.pipeline_id
     ORDER BY queued DESC, running DESC`,
  );
}
