/**
 * A small typed wrapper over the Durable Object's SQLite: failures carry the query as context, and
 * rows read back are parsed with a zod schema, never cast.
 */
import type { z } from 'zod';

export type SqlValue = string | number | null | ArrayBuffer;

export interface Sql {
  /** Runs a statement and returns its rows, each parsed with `schema`. */
  rows<T>(schema: z.ZodType<T>, query: string, ...values: SqlValue[]): T[];
  /** Runs a statement and returns its first row parsed with `schema`, or null. */
  row<T>(schema: z.ZodType<T>, query: string, ...values: SqlValue[]): T | null;
  /** Runs a statement and returns how many rows it wrote. */
  run(query: string, ...values: SqlValue[]): number;
  /** Runs `body` as one transaction: all of its writes land, or none. */
  transaction<T>(body: () => T): T;
}

/**
 * The part of a Durable Object's storage that `createSql` uses. Spelled out, not
 * `DurableObjectStorage`, so that pure modules which take an `Sql` type-check on the Node side too.
 */
export interface SqlStorage {
  sql: {
    exec(query: string, ...values: SqlValue[]): { toArray(): unknown[]; rowsWritten: number };
  };
  transactionSync<T>(body: () => T): T;
}

export function createSql(storage: SqlStorage): Sql {
  function exec(query: string, values: SqlValue[]) {
    try {
      return storage.sql.exec(query, ...values);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason} (in query: ${oneLine(query)})`);
    }
  }
  return {
    rows: <T>(schema: z.ZodType<T>, query: string, ...values: SqlValue[]) =>
      exec(query, values)
        .toArray()
        .map((row) => parseRow(schema, row, query)),
    row: <T>(schema: z.ZodType<T>, query: string, ...values: SqlValue[]) => {
      const [row] = exec(query, values).toArray();
      return row === undefined ? null : parseRow(schema, row, query);
    },
    run: (query: string, ...values: SqlValue[]) => {
      const cursor = exec(query, values);
      cursor.toArray();
      return cursor.rowsWritten;
    },
    transaction: <T>(body: () => T) => storage.transactionSync(body),
  };
}

function parseRow<T>(schema: z.ZodType<T>, row: unknown, query: string): T {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  throw new Error(
    `a row does not fit its schema: ${parsed.error.message} (in query: ${oneLine(query)})`,
  );
}

const oneLine = (query: string) => query.replace(/\s+/g, ' ').trim();

/**
 * `WHERE a = ? AND b = ?` of the conditions whose value is given, with those values: a filter left
 * out rather than made always-true, so SQLite can still use its indexes.
 */
export function whereGiven(conditions: Record<string, string | number | null | undefined>): {
  clause: string;
  values: (string | number)[];
} {
  const given = Object.entries(conditions).filter(
    (entry): entry is [string, string | number] =>
      typeof entry[1] === 'string' || typeof entry[1] === 'number',
  );
  return {
    clause: given.length ? `WHERE ${given.map(([condition]) => condition).join(' AND ')}` : '',
    values: given.map(([, value]) => value),
  };
}
