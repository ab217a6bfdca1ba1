/** Paths that must stay inside the agent's work dir. */
import { describe, expect, it } from 'vitest';
import { containedSegments, isContainedPath } from '../../protocol/paths.ts';

describe('containedSegments', () => {
  it('normalizes relative paths into segments', () => {
    expect(containedSegments('a/b/c')).toEqual(['a', 'b', 'c']);
    expect(containedSegments('./a//b/./c/')).toEqual(['a', 'b', 'c']);
    expect(containedSegments('a\\b')).toEqual(['a', 'b']);
    expect(containedSegments('a/b/../c')).toEqual(['a', 'c']);
    expect(containedSegments('a/..')).toEqual([]);
    expect(containedSegments('.')).toEqual([]);
    expect(containedSegments('')).toEqual([]);
    expect(containedSegments('..foo/bar..')).toEqual(['..foo', 'bar..']);
  });

  it('rejects paths that climb above the base', () => {
    expect(containedSegments('..')).toBeNull();
    expect(containedSegments('../x')).toBeNull();
    expect(containedSegments('a/../../x')).toBeNull();
    expect(containedSegments('a/b/../../..')).toBeNull();
    expect(containedSegments('a\\..\\..\\x')).toBeNull();
    expect(containedSegments('./../x')).toBeNull();
  });

  it('rejects absolute paths, windows drives and UNC paths', () => {
    expect(containedSegments('/etc/passwd')).toBeNull();
    expect(containedSegments('\\windows')).toBeNull();
    expect(containedSegments('\\\\server\\share')).toBeNull();
    expect(containedSegments('C:\\x')).toBeNull();
    expect(containedSegments('c:x')).toBeNull();
  });

  it('rejects NUL bytes', () => {
    expect(containedSegments('a\0b')).toBeNull();
    expect(containedSegments('a/b\0')).toBeNull();
  });
});

describe('isContainedPath', () => {
  it('agrees with containedSegments', () => {
    expect(isContainedPath('deep/nested/dir')).toBe(true);
    expect(isContainedPath('x/../y')).toBe(true);
    expect(isContainedPath('../x')).toBe(false);
    expect(isContainedPath('/x')).toBe(false);
    expect(isContainedPath('D:/x')).toBe(false);
    expect(isContainedPath('x\0')).toBe(false);
  });
});
