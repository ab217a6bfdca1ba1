/** JSON bounds: the depth scan that runs before any recursive walk, and re-encoded sizes. */
import { describe, expect, it } from 'vitest';
import {
  MAX_FRAME_JSON_DEPTH,
  MAX_JSON_DEPTH,
  jsonBytes,
  jsonDepth,
  tooDeep,
  utf8Bytes,
} from '../../protocol/index.ts';

const nested = (depth: number, open = '{"a":', close = '}') =>
  open.repeat(depth) + '1' + close.repeat(depth);

describe('jsonDepth', () => {
  it('counts the deepest nesting of arrays and objects', () => {
    expect(jsonDepth('1')).toBe(0);
    expect(jsonDepth('"x"')).toBe(0);
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('[[],[[]],{}]')).toBe(3);
    expect(jsonDepth(nested(10))).toBe(10);
    expect(jsonDepth(nested(10, '[', ']'))).toBe(10);
    expect(jsonDepth(JSON.stringify({ a: [{ b: [1, { c: {} }] }] }))).toBe(6);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth(JSON.stringify({ s: '[[[[{{{{' }))).toBe(1);
    expect(jsonDepth(JSON.stringify({ s: 'a\\"[[[', t: '\\', u: '"{{' }))).toBe(1);
    expect(jsonDepth(JSON.stringify(['\\\\"[', ['x']]))).toBe(2);
  });

  it('stops as soon as the limit is passed', () => {
    expect(jsonDepth(nested(1800), 64)).toBe(65);
    expect(tooDeep(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(tooDeep(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(tooDeep(nested(100_000, '[', ']'), MAX_JSON_DEPTH)).toBe(true);
  });

  it('gives frames room for the envelope around a body that was accepted', () => {
    const payload = JSON.parse(nested(MAX_JSON_DEPTH - 1)) as unknown;
    const body = JSON.stringify({ kind: 'echo', payload });
    expect(tooDeep(body, MAX_JSON_DEPTH)).toBe(false);
    const frame = JSON.stringify({
      type: 'assign',
      tasks: [{ taskId: 't', jobId: 'j', attempt: 1, spec: { kind: 'echo', payload } }],
    });
    expect(tooDeep(frame, MAX_FRAME_JSON_DEPTH)).toBe(false);
    const complete = JSON.stringify({ type: 'complete', tasks: [{ result: payload }] });
    expect(tooDeep(complete, MAX_FRAME_JSON_DEPTH)).toBe(false);
  });
});

describe('utf8Bytes and jsonBytes', () => {
  it('counts UTF-8 bytes as TextEncoder writes them', () => {
    const encoder = new TextEncoder();
    for (const text of ['', 'abc', 'é', '€', '😀', 'a\ud800b', '\udc00', 'x😀é€\u0000'])
      expect(utf8Bytes(text)).toBe(encoder.encode(text).length);
  });

  it('measures a value as re-encoded: numbers written out', () => {
    const body = '[' + Array.from({ length: 1000 }, () => '9e15').join(',') + ']';
    expect(body.length).toBe(5001);
    expect(jsonBytes(JSON.parse(body))).toBe(1000 * 16 + 999 + 2);
    expect(jsonBytes({ s: '\u00e9' })).toBe('{"s":"é"}'.length + 1);
    expect(jsonBytes(undefined)).toBe(0);
  });
});
