/** ISO-8601 date and timestamp literals as days and nanoseconds since the epoch (UTC unless they give an offset). */
import { daysFromCivil, parseIsoDate, validDate } from '../calendar.ts';

export { daysFromCivil, parseIsoDate };

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** `YYYY-MM-DD[THH:MM[:SS[.fffffffff]]][Z|±HH[:MM]]` as nanoseconds since the epoch. */
export function parseIsoTimestamp(text: string): bigint | undefined {
  const match = TIMESTAMP.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const [hour, minute, second] = [
    Number(match[4] ?? 0),
    Number(match[5] ?? 0),
    Number(match[6] ?? 0),
  ];
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = BigInt((match[7] ?? '').padEnd(9, '0'));
  let offsetMinutes = 0;
  const zone = match[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || 0);
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const seconds =
    daysFromCivil(year, month, day) * 86_400 +
    hour * 3600 +
    minute * 60 +
    second -
    offsetMinutes * 60;
  return BigInt(seconds) * 1_000_000_000n + fraction;
}
