/** truncateUtf8: cuts output to the log limit without splitting a character. */
import { describe, expect, it } from 'vitest';
import { truncateUtf8 } from '../../durable-objects/utf8.ts';

const bytes = (text: string) => new TextEncoder().encode(text).length;

describe('truncateUtf8', () => {
  it('returns text within the budget unchanged', () => {
    expect(truncateUtf8('hello', 5)).toBe('hello');
    expect(truncateUtf8('hello', 100)).toBe('hello');
    expect(truncateUtf8('', 0)).toBe('');
  });

  it('cuts ASCII at the byte budget', () => {
    expect(truncateUtf8('hello', 3)).toBe('hel');
    expect(truncateUtf8('hello', 0)).toBe('');
    expect(truncateUtf8('hello', -4)).toBe('');
  });

  it('backs off to a character boundary for 2-, 3- and 4-byte characters', () => {
    expect(truncateUtf8('aé', 2)).toBe('a'); // é is 2 bytes
    expect(truncateUtf8('aé', 3)).toBe('aé');
    expect(truncateUtf8('€€', 4)).toBe('€'); // € is 3 bytes
    expect(truncateUtf8('€€', 5)).toBe('€');
    expect(truncateUtf8('😀x', 3)).toBe(''); // 😀 is 4 bytes
    expect(truncateUtf8('😀x', 4)).toBe('😀');
  });

  it('never splits a character, never exceeds the budget, and keeps as much as fits', () => {
    const text = 'aé€😀b日本語🙂z';
    const total = bytes(text);
    const chars = [...text];
    for (let max = 0; max <= total + 1; max++) {
      const cut = truncateUtf8(text, max);
      expect(text.startsWith(cut)).toBe(true);
      expect(cut).not.toContain('\uFFFD');
      expect(bytes(cut)).toBeLessThanOrEqual(max);
      const kept = [...cut].length;
      if (kept < chars.length) expect(bytes(cut) + bytes(chars[kept] ?? '')).toBeGreaterThan(max);
    }
  });
});
