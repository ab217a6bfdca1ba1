/** `tm`'s argument parsing: flags, positionals, `--`, and how commands are found. */
import { describe, expect, it } from 'vitest';
import {
  GLOBAL_FLAGS,
  keyValues,
  numberFlag,
  parseArgs,
  splitCommand,
  takePositionals,
  type FlagSpecs,
} from '../../cli/args.ts';
import { UsageError } from '../../cli/exit.ts';
import { findCommand } from '../../cli/main.ts';

const SPECS: FlagSpecs = {
  ...GLOBAL_FLAGS,
  workers: { type: 'string' },
  agg: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
};

describe('parseArgs', () => {
  it('reads flags anywhere, with spaces or =, and positionals in order', () => {
    const parsed = parseArgs(
      ['a', '--workers', '3', 'b', '--url=http://x:1', '--force', '-f'],
      SPECS,
    );
    expect(parsed).toEqual({
      positionals: ['a', 'b'],
      flags: { workers: '3', url: 'http://x:1', force: true, follow: true },
      rest: null,
    });
  });

  it('collects repeatable flags and keeps everything after -- verbatim', () => {
    const parsed = parseArgs(
      ['--agg', 'count(*)', '--agg=sum(x)', '--', 'bash', '--force', '-c', 'x'],
      SPECS,
    );
    expect(parsed.flags.agg).toEqual(['count(*)', 'sum(x)']);
    expect(parsed.rest).toEqual(['bash', '--force', '-c', 'x']);
    expect(parsed.flags.force).toBeUndefined();
  });

  it('rejects unknown options, missing values, values on booleans and repeats', () => {
    expect(() => parseArgs(['--nope'], SPECS)).toThrow(UsageError);
    expect(() => parseArgs(['-z'], SPECS)).toThrow(/unknown option -z/);
    expect(() => parseArgs(['--workers'], SPECS)).toThrow(/needs a value/);
    expect(() => parseArgs(['--workers', '--'], SPECS)).toThrow(/needs a value/);
    expect(() => parseArgs(['--force=yes'], SPECS)).toThrow(/takes no value/);
    expect(parseArgs(['--force=false'], SPECS).flags.force).toBe(false);
    expect(() => parseArgs(['--url', 'a', '--url', 'b'], SPECS)).toThrow(/more than once/);
  });

  it('refuses a token on the command line, pointing at the ways that keep it off', () => {
    for (const argv of [['--token', 'tma_secret'], ['--token=tma_secret']]) {
      const error = (() => {
        try {
          parseArgs(argv, SPECS);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect(String(error)).toMatch(/--token-file FILE, TM_TOKEN/);
      expect(String(error)).not.toContain('tma_secret');
    }
  });

  it('a value may start with a dash', () => {
    expect(parseArgs(['--workers', '-1'], SPECS).flags.workers).toBe('-1');
  });
});

describe('flag helpers', () => {
  const args = (flags: Record<string, string>) => ({ positionals: [], flags, rest: null });
  it('numberFlag checks integers and ranges', () => {
    expect(numberFlag(args({ n: '3' }), 'n', { min: 1 })).toBe(3);
    expect(numberFlag(args({}), 'n')).toBeUndefined();
    expect(() => numberFlag(args({ n: '1.5' }), 'n')).toThrow(/an integer/);
    expect(numberFlag(args({ n: '1.5' }), 'n', { float: true })).toBe(1.5);
    expect(() => numberFlag(args({ n: 'x' }), 'n')).toThrow(UsageError);
    expect(() => numberFlag(args({ n: '' }), 'n')).toThrow(UsageError);
    expect(() => numberFlag(args({ n: '0' }), 'n', { min: 1 })).toThrow(/between 1/);
  });

  it('takePositionals names what is missing or extra', () => {
    const p = (...positionals: string[]) => ({ positionals, flags: {}, rest: null });
    expect(takePositionals(p('x'), ['ID'])).toEqual(['x']);
    expect(() => takePositionals(p(), ['ID'])).toThrow('missing ID');
    expect(() => takePositionals(p('x', 'y'), ['ID'])).toThrow('unexpected argument "y"');
  });

  it('keyValues reads KEY=VALUE, values may hold =', () => {
    expect(keyValues(['A=1', 'B=x=y', 'C='], '--env')).toEqual({ A: '1', B: 'x=y', C: '' });
    expect(() => keyValues(['=1'], '--env')).toThrow(/KEY=VALUE/);
    expect(() => keyValues(['A'], '--env')).toThrow(/KEY=VALUE/);
  });
});

describe('finding the command', () => {
  it('skips global flags and their values before the command', () => {
    expect(splitCommand(['--url', 'http://h', '--json', 'jobs', '--state', 'x'])).toEqual({
      command: 'jobs',
      rest: ['--url', 'http://h', '--json', '--state', 'x'],
    });
    expect(splitCommand(['--ca-file', 'ca.pem', 'workers'])).toEqual({
      command: 'workers',
      rest: ['--ca-file', 'ca.pem'],
    });
    expect(splitCommand(['--master-addr', '127.0.0.1:8080', 'submit-job'])).toEqual({
      command: 'submit-job',
      rest: ['--master-addr', '127.0.0.1:8080'],
    });
    expect(splitCommand(['--json'])).toEqual({ rest: ['--json'] });
    expect(splitCommand(['--', 'jobs'])).toEqual({ rest: ['--', 'jobs'] });
  });

  it('finds two-word commands and falls back to the group command', () => {
    expect(findCommand(['submit', 'aggregate', '--store', 's']).command?.name).toBe(
      'submit aggregate',
    );
    expect(findCommand(['--json', 'submit', 'command', '--', 'ls']).rest).toEqual([
      '--json',
      '--',
      'ls',
    ]);
    expect(findCommand(['object-stores', 'add', 's3://b']).command?.name).toBe('object-stores add');
    expect(findCommand(['object-stores', '--json']).command?.name).toBe('object-stores');
    expect(findCommand(['submit', 'nope'])).toEqual({ name: 'submit nope', rest: ['nope'] });
    expect(findCommand(['submit'])).toEqual({ name: 'submit', rest: [] });
    expect(findCommand(['job', 'x']).command?.name).toBe('job');
    expect(findCommand([]).command).toBeUndefined();
  });
});
