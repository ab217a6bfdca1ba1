/**
 * The first line of a data connection between agents: which task's stdin it feeds, from which
 * upstream instance, in which run of the group, and the run's secret. Pure.
 */
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const MAX_HEADER_BYTES = 1024;

export const ChannelHeader = z.strictObject({
  v: z.literal(1),
  taskId: z.uuid(),
  epoch: z.number().int().min(1),
  secret: z.string().regex(/^[0-9a-f]{64}$/),
  /** `stage/instance` of the sender, for messages. */
  from: z.string().max(128),
});
export type ChannelHeader = z.infer<typeof ChannelHeader>;

export const encodeHeader = (header: ChannelHeader): string => `${JSON.stringify(header)}\n`;

export function parseHeader(line: string): ChannelHeader | null {
  try {
    const parsed = ChannelHeader.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
