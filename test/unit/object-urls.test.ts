/** The compact form of a task's presigned URLs: keys split around a shared prefix and suffix, rebuilt whole. */
import { describe, expect, it } from 'vitest';
import {
  SignedObjects,
  compactObjects,
  objectUrl,
  signedKeys,
  signedUrls,
} from '../../protocol/index.ts';

const SIG = (key: string) => key.length.toString(16).padStart(64, '0');

describe('compactObjects', () => {
  it('takes out the longest shared prefix and suffix, and gives them back', () => {
    const keys = ['out/map/a/attempt-1/part-3.arrow', 'out/map/bc/attempt-2/part-3.arrow'];
    const objects = compactObjects(keys, SIG);
    expect(objects).toMatchObject({ prefix: 'out/map/', suffix: '/part-3.arrow' });
    expect(objects.keys).toEqual(['a/attempt-1', 'bc/attempt-2']);
    expect(signedKeys(SignedObjects.parse(objects))).toEqual(keys);
  });

  it('never lets prefix and suffix overlap, and keeps one key, equal keys and none', () => {
    for (const keys of [['ab', 'abab'], ['a/x.arrow', 'a/y/x.arrow'], ['k'], ['k', 'k'], []]) {
      expect(signedKeys(SignedObjects.parse(compactObjects(keys, SIG)))).toEqual(keys);
    }
  });

  it('gives plain URLs for a store without credentials, with no signatures', () => {
    const objects = compactObjects(['a b/c'], () => undefined);
    expect(objects.signatures).toBeUndefined();
    expect([...signedUrls({ base: 'https://h/bkt/' }, objects).values()]).toEqual([
      'https://h/bkt/a%20b/c',
    ]);
  });

  it('refuses a signature count that does not match the keys', () => {
    const objects = compactObjects(['a', 'b'], SIG);
    expect(() => SignedObjects.parse({ ...objects, signatures: SIG('a') })).toThrow();
  });
});

describe('objectUrl', () => {
  it('encodes each key segment as S3’s canonical URI does and appends the signature', () => {
    const url = objectUrl(
      { base: 'http://s/b/', query: 'X-Amz-Date=1' },
      "x/(é)!*'/..",
      'f'.repeat(64),
    );
    expect(url).toBe(
      `http://s/b/x/%28%C3%A9%29%21%2A%27/..?X-Amz-Date=1&X-Amz-Signature=${'f'.repeat(64)}`,
    );
  });
});
