/** How long something took, for people: `0.40s` under ten seconds, else `1m 05s` and up. */
import { formatDuration } from '../progress.ts';

/** From `from` to `to` (or `now` while it runs); `-` before it started. */
export function duration(from: string | null, to: string | null, now = Date.now()): string {
  if (!from) return '-';
  const s = ((to ? Date.parse(to) : now) - Date.parse(from)) / 1000;
  return s < 10 ? `${s.toFixed(2)}s` : formatDuration(s);
}
