/** The agent's log lines: text or JSON, job and task fields carried, secrets never written. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../worker-agent/logger.ts';
import type { LogFormat } from '../../protocol/index.ts';

function capture(format: LogFormat, secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({
    write: (line) => lines.push(line),
    format,
    secrets,
    level: 'info',
  });
  return { lines, logger };
}

describe('createLogger', () => {
  it('writes JSON lines with time, level, component, job, task and message', () => {
    const { lines, logger } = capture('json');
    logger
      .child({ task: 't1', job: 'j1' })
      .info('task failed', { attempt: 2, error: new Error('boom') });
    logger.debug('hidden at the default level');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry).toEqual({
      time: expect.any(String),
      level: 'info',
      component: 'agent',
      job: 'j1',
      task: 't1',
      message: 'task failed',
      attempt: 2,
      error: 'boom',
    });
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
  });

  it('writes one readable line by default', () => {
    const lines: string[] = [];
    createLogger({ write: (line) => lines.push(line) })
      .child({ task: 't1' })
      .warn('refused a task', { reason: 'no slot free' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN agent: refused a task task=t1 reason="no slot free"\n$/,
    );
  });

  for (const format of ['text', 'json'] as const) {
    it(`never writes a secret, raw or JSON-escaped (${format})`, () => {
      const secret = 'tok"en\\with-quotes';
      const { lines, logger } = capture(format, [secret]);
      logger.warn(`header was Bearer ${secret}`, { token: secret, nested: { again: secret } });
      logger.error('failed', { error: new Error(`bad ${secret}`) });
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line).not.toContain(secret);
        expect(line).not.toContain(JSON.stringify(secret).slice(1, -1));
        expect(line).toContain('[redacted]');
      }
    });
  }
});
