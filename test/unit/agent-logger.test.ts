/** Structured agent logs: one JSON object per line, task fields carried, secrets never written. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../worker-agent/logger.ts';

describe('createLogger', () => {
  it('writes JSON lines with level, message and fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) }).child({
      taskId: 't1',
      jobId: 'j1',
    });
    logger.info('task failed', { attempt: 2, error: new Error('boom') });
    logger.debug('hidden at the default level');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry).toMatchObject({
      level: 'info',
      msg: 'task failed',
      taskId: 't1',
      jobId: 'j1',
      attempt: 2,
      error: 'boom',
    });
    expect(new Date(entry.ts).toString()).not.toBe('Invalid Date');
  });

  it('never writes a secret, raw or JSON-escaped', () => {
    const lines: string[] = [];
    const secret = 'tok"en\\with-quotes';
    const logger = createLogger({
      write: (line) => lines.push(line),
      secrets: [secret],
      level: 'debug',
    });
    logger.warn(`header was Bearer ${secret}`, { token: secret, nested: { again: secret } });
    logger.error('failed', { error: new Error(`bad ${secret}`) });
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(line).toContain('[redacted]');
    }
  });
});
