/** The `metric_counters` table: Prometheus counters that outlive the Durable Object's restarts. */
import { z } from 'zod';
import type { Sql } from './sql.ts';

/** An amount to add to one series; `labels` is the series' stored key (JSON, keys sorted). */
export interface CounterIncrement {
  name: string;
  labels: string;
  by: number;
}

const CounterRow = z.object({ name: z.string(), labels: z.string(), value: z.number() });
export type CounterRow = z.infer<typeof CounterRow>;

/** Adds each increment to its series, creating the series at the increment. */
export function addToCounters(sql: Sql, increments: readonly CounterIncrement[]): void {
  for (const { name, labels, by } of increments) {
    sql.run(
      `INSERT INTO metric_counters (name, labels, value) VALUES (?, ?, ?)
       ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value`,
      name,
      labels,
      by,
    );
  }
}

/** Every stored series. */
export function readCounters(sql: Sql): CounterRow[] {
  return sql.rows(
    CounterRow,
    `SELECT name, labels, value FROM metric_counters ORDER BY name, labels`,
  );
}
