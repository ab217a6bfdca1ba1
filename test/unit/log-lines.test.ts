/** protocol/log-lines.ts: one entry as a JSON object or a readable line, the same fields either way. */
import { describe, expect, it } from 'vitest';
import { formatLogLine, parseLogFormat, type LogLine } from '../../protocol/index.ts';

const TIME = '2026-12-07T22:15:00.000Z';

const entry = (fields?: LogLine['fields']): LogLine => ({
  time: TIME,
  level: 'warn',
  component: 'agent-session',
  message: 'refused a result',
  fields,
});

describe('formatLogLine', () => {
  it('writes JSON with its own keys first, then job, task, worker, message and the rest', () => {
    const line = formatLogLine(
      entry({ extra: 1, worker: 'w1', task: 't1', job: 'j1', missing: undefined }),
      'json',
    );
    expect(Object.keys(JSON.parse(line))).toEqual([
      'time',
      'level',
      'component',
      'job',
      'task',
      'worker',
      'message',
      'extra',
    ]);
    expect(JSON.parse(line)).toMatchObject({ time: TIME, level: 'warn', extra: 1 });
  });

  it('leaves out job, task and worker when they do not apply', () => {
    expect(JSON.parse(formatLogLine(entry(), 'json'))).toEqual({
      time: TIME,
      level: 'warn',
      component: 'agent-session',
      message: 'refused a result',
    });
    expect(formatLogLine(entry(), 'text')).toBe(`${TIME} WARN agent-session: refused a result`);
  });

  it('lets no field take the place of a line’s own key', () => {
    const parsed = JSON.parse(
      formatLogLine(entry({ time: 'x', level: 'debug', component: 'y', message: 'z' }), 'json'),
    );
    expect(parsed).toEqual({
      time: TIME,
      level: 'warn',
      component: 'agent-session',
      message: 'refused a result',
    });
  });

  it('writes text as key=value, quoting what has spaces or structure', () => {
    const line = formatLogLine(
      entry({ job: 'j1', count: 3, ok: false, reason: 'too large', list: [1, 2] }),
      'text',
    );
    expect(line).toBe(
      `${TIME} WARN agent-session: refused a result job=j1 count=3 ok=false reason="too large" list=[1,2]`,
    );
  });

  it('keeps one line, whatever the message or an error holds', () => {
    const text = formatLogLine(
      {
        ...entry({ error: Object.assign(new Error('a\nb'), { code: 'EX' }) }),
        message: 'one\ntwo',
      },
      'text',
    );
    expect(text.split('\n')).toHaveLength(1);
    expect(text).toContain('one\\ntwo');
    expect(text).toContain('error="a\\nb (EX)"');
    const json = formatLogLine({ ...entry({ error: new Error('boom') }), message: 'x\ny' }, 'json');
    expect(json.split('\n')).toHaveLength(1);
    expect(JSON.parse(json)).toMatchObject({ message: 'x\ny', error: 'boom' });
  });
});

describe('parseLogFormat', () => {
  it('takes text or json, text when unset, and refuses anything else by name', () => {
    expect(parseLogFormat(undefined)).toBe('text');
    expect(parseLogFormat('')).toBe('text');
    expect(parseLogFormat('json')).toBe('json');
    expect(parseLogFormat('text')).toBe('text');
    expect(() => parseLogFormat('JSON', '--log-format')).toThrow(
      '--log-format must be text or json, not "JSON"',
    );
  });
});
