/** Queries on `auth_failures`: wrong tokens counted per client within a window. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

const Counted = z.object({ window_start: z.number(), failures: z.number().int() });

/**
 * Counts one wrong token of `client`: into its window while the window lasts (`windowMs` from its
 * start), else into a new one from `now`. Returns the window's start and its count.
 */
export function countFailure(
  sql: Sql,
  client: string,
  now: number,
  windowMs: number,
): z.infer<typeof Counted> | null {
  return sql.row(
    Counted,
    `INSERT INTO auth_failures (client, window_start, failures) VALUES (?, ?, 1)
     ON CONFLICT (client) DO UPDATE SET
       window_start = CASE WHEN ? - window_start < ? THEN window_start ELSE excluded.window_start END,
       failures = CASE WHEN ? - window_start < ? THEN failures + 1 ELSE 1 END
     RETURNING window_start, failures`,
    client,
    now,
    now,
    windowMs,
    now,
    windowMs,
  );
}
