/** The job submission schema: what clients may send. */
import { describe, expect, it } from 'vitest';
import { SubmitJobRequest } from '../../protocol/index.ts';

const UUID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';

function issues(input: unknown) {
  const result = SubmitJobRequest.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return result.error.issues;
}

describe('SubmitJobRequest', () => {
  it('accepts command jobs as a shell line or an argv array', () => {
    expect(SubmitJobRequest.parse({ kind: 'command', command: 'ls -la' })).toEqual({
      kind: 'command',
      command: 'ls -la',
    });
    const full = {
      kind: 'command',
      command: ['ls', '-la', ''],
      path: 'sub/dir',
      env: { FOO: 'bar', _X1: '' },
      workers: 2,
      name: 'list',
      retries: 3,
      timeoutSeconds: 1.5,
    };
    expect(SubmitJobRequest.parse(full)).toEqual(full);
  });

  it('accepts echo jobs', () => {
    expect(
      SubmitJobRequest.parse({ kind: 'echo', payload: { n: [1, null, 'x'] }, count: 10 }),
    ).toMatchObject({ count: 10 });
    expect(SubmitJobRequest.safeParse({ kind: 'echo' }).success).toBe(true);
  });

  it('rejects unknown fields, naming them', () => {
    const [issue] = issues({ kind: 'command', command: 'ls', cwd: '/tmp' });
    expect(issue).toMatchObject({ code: 'unrecognized_keys', keys: ['cwd'] });
    expect(issues({ kind: 'echo', payload: 1, extra: true })[0]).toMatchObject({
      code: 'unrecognized_keys',
      keys: ['extra'],
    });
  });

  it('rejects an empty command line', () => {
    expect(issues({ kind: 'command', command: '' })[0]).toMatchObject({
      path: ['command'],
      message: 'command must not be empty',
    });
    expect(issues({ kind: 'command', command: '  \t ' })[0]?.message).toBe(
      'command must not be empty',
    );
  });

  it('rejects an empty argv and a blank program', () => {
    expect(issues({ kind: 'command', command: [] })[0]).toMatchObject({
      path: ['command'],
      message: 'command must not be empty',
    });
    expect(issues({ kind: 'command', command: [' ', 'x'] })[0]?.message).toBe(
      'the program (argv[0]) must not be empty',
    );
  });

  it('rejects a missing command', () => {
    expect(issues({ kind: 'command' })[0]?.path).toEqual(['command']);
  });

  it('rejects working directories that escape the work dir', () => {
    for (const path of ['../x', '/etc', 'a/../../b', 'C:\\x', 'a\0']) {
      expect(issues({ kind: 'command', command: 'ls', path })[0]).toMatchObject({ path: ['path'] });
    }
  });

  it('rejects invalid environment variable names', () => {
    expect(issues({ kind: 'command', command: 'ls', env: { '1BAD': 'x' } })[0]?.path).toEqual([
      'env',
      '1BAD',
    ]);
  });

  it('rejects unknown or missing kinds', () => {
    expect(issues({ kind: 'mapreduce' })[0]?.path).toEqual(['kind']);
    expect(issues({ command: 'ls' })[0]?.path).toEqual(['kind']);
  });

  it('accepts each worker selector form', () => {
    for (const workers of ['all', 1, 100_000, [UUID], [UUID, UUID]]) {
      expect(SubmitJobRequest.safeParse({ kind: 'echo', workers }).success).toBe(true);
    }
  });

  it('rejects malformed worker selectors', () => {
    for (const workers of ['some', 0, -1, 1.5, 100_001, [], ['not-a-uuid'], [UUID, 7]]) {
      expect(issues({ kind: 'echo', workers })[0]?.path?.[0]).toBe('workers');
    }
  });

  it('rejects out-of-range retries, counts and timeouts', () => {
    expect(issues({ kind: 'echo', retries: -1 })[0]?.path).toEqual(['retries']);
    expect(issues({ kind: 'echo', retries: 101 })[0]?.path).toEqual(['retries']);
    expect(issues({ kind: 'echo', count: 0 })[0]?.path).toEqual(['count']);
    expect(issues({ kind: 'command', command: 'ls', timeoutSeconds: 0 })[0]?.path).toEqual([
      'timeoutSeconds',
    ]);
  });
});
