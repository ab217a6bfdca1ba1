/** protocol/control-plane-log.ts: the control plane's lines, text or JSON, with no token or store key in them. */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { controlPlaneLogs, readLogFormat } from '../../protocol/control-plane-log.ts';
import { readConfig } from '../../durable-objects/config.ts';

const ADMIN = 'tm_admin_0123456789abcdef';
const JOIN = 'tm_join_fedcba9876543210';
const STORE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  warn.mockRestore();
  error.mockRestore();
});

const written = () => [...warn.mock.calls, ...error.mock.calls].map((args) => String(args[0]));

describe('controlPlaneLogs', () => {
  it('writes one JSON object a line with time, level, component, job, task, worker and message', () => {
    const log = controlPlaneLogs({ TM_LOG_FORMAT: 'json' })('agent-session');
    log.warn('refused a result', { task: 't1', worker: 'w1', job: 'j1' });
    log.error('boom');
    const [first, second] = written().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      level: 'warn',
      component: 'agent-session',
      job: 'j1',
      task: 't1',
      worker: 'w1',
      message: 'refused a result',
    });
    expect(second).toMatchObject({ level: 'error', component: 'agent-session', message: 'boom' });
    expect(Object.keys(second ?? {})).not.toContain('job');
  });

  it('writes readable text when TM_LOG_FORMAT is unset or not json', () => {
    for (const format of [undefined, 'text', 'JSON']) {
      warn.mockClear();
      controlPlaneLogs({ TM_LOG_FORMAT: format })('retention').warn('deleting failed', {
        job: 'j9',
      });
      expect(written()).toEqual([
        expect.stringMatching(/Z WARN retention: deleting failed job=j9$/),
      ]);
    }
    expect(readLogFormat('json')).toBe('json');
    expect(readLogFormat('yaml')).toBe('text');
  });

  for (const format of ['text', 'json']) {
    it(`never writes the admin or join token, or a secret it is given (${format})`, () => {
      const logs = controlPlaneLogs({
        TM_LOG_FORMAT: format,
        TM_ADMIN_TOKEN: ADMIN,
        TM_JOIN_TOKEN: JOIN,
      });
      logs('api').error(`unhandled error with Bearer ${ADMIN}`, { error: `join ${JOIN}` });
      logs('retention', [STORE_SECRET, null]).warn('store failed', {
        error: `signed with ${STORE_SECRET}`,
        url: `https://s3/?k=${encodeURIComponent(STORE_SECRET)}`,
      });
      expect(written()).toHaveLength(2);
      for (const line of written()) {
        for (const secret of [ADMIN, JOIN, STORE_SECRET, encodeURIComponent(STORE_SECRET)])
          expect(line).not.toContain(secret);
        expect(line).toContain('[redacted]');
      }
    });
  }
});

describe('readConfig', () => {
  it('warns through the log of a mistyped TM_LOG_FORMAT and TM_REQUIRE_ISOLATION', () => {
    readConfig({ TM_LOG_FORMAT: 'jsonl', TM_REQUIRE_ISOLATION: 'bwarp' });
    expect(written()).toEqual([
      expect.stringMatching(
        /WARN config: TM_LOG_FORMAT="jsonl" is not text or json; writing text$/,
      ),
      expect.stringMatching(
        /WARN config: TM_REQUIRE_ISOLATION="bwarp" is not bwrap or none; requiring bwrap$/,
      ),
    ]);
    warn.mockClear();
    readConfig({ TM_LOG_FORMAT: 'json' });
    expect(written()).toEqual([]);
  });
});
