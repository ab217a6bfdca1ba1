/**
 * JSON text read back from a column, parsed with its zod schema: a value that does not fit is an
 * error naming the column, never a cast that lets a wrong shape through.
 */
import { z } from 'zod';

export function parseJsonColumn<T>(schema: z.ZodType<T>, text: string, column: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${column} holds text that is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(`${column} does not fit its schema: ${parsed.error.message}`);
}

/** A JSON array of names: an agent's executors, a pipeline task's required executors. */
export const NameList = z.array(z.string());
/** A JSON object of labels. */
export const Labels = z.record(z.string(), z.string());
