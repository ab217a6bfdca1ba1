/**
 * route.ts and record-key.ts: FNV-1a is stable, keyed records meet by key, records without the key
 * go to every instance, non-JSON fails; the byte scan routes exactly as JSON.parse would, or
 * leaves the record to it; gather deals lines to channels.
 */
import { describe, expect, it } from 'vitest';
import {
  EVERY,
  fnv1a,
  gather,
  keyedInstance,
  parsedInstance,
} from '../../worker-agent/streams/route.ts';
import { MISSING, scanKeyHash, UNSURE } from '../../worker-agent/streams/record-key.ts';
import { lineSpans, RecordError } from '../../worker-agent/streams/record-lines.ts';

const line = (text: string) => Buffer.from(text);
/** What keyedInstance gives, or the error it throws. */
const outcome = (route: typeof keyedInstance, text: string, key = 'k', n = 7) => {
  try {
    return route(line(text), key, n);
  } catch (error) {
    return error instanceof RecordError ? 'RecordError' : `other: ${String(error)}`;
  }
};

describe('fnv1a', () => {
  it('is FNV-1a 32 (the published values), the same on every agent and run', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(fnv1a('"k3"')).toBe(fnv1a('"k3"'));
  });
});

describe('keyedInstance', () => {
  it('sends equal keys to one instance: the hash of the JSON of the value', () => {
    const a = keyedInstance(line('{"k":"x","n":1}'), 'k', 5);
    expect(keyedInstance(line('{"n":2, "k" : "x"}'), 'k', 5)).toBe(a);
    expect(a).toBe(fnv1a('"x"') % 5);
    expect(keyedInstance(line('{"k":{"b":[1, 2]}}'), 'k', 5)).toBe(fnv1a('{"b":[1,2]}') % 5);
    expect(keyedInstance(line('{"k":1.50}'), 'k', 5)).toBe(fnv1a('1.5') % 5);
  });

  it('sends a record without the key, or with it null, to every instance', () => {
    expect(keyedInstance(line('{"other":1}'), 'k', 3)).toBe(EVERY);
    expect(keyedInstance(line('{"k":null}'), 'k', 3)).toBe(EVERY);
    expect(keyedInstance(line('{}'), 'k', 3)).toBe(EVERY);
    // Object.prototype's members are no record's fields.
    expect(keyedInstance(line('{"a":1}'), 'toString', 3)).toBe(EVERY);
    expect(keyedInstance(line('{"a":{"b":1}}'), 'constructor', 3)).toBe(EVERY);
  });

  it('fails a record that is not JSON, or not a JSON object', () => {
    for (const bad of ['not json', '{"k":1', '{"k":1}}', '[{"k":1}]', '42', '"k"', 'null'])
      expect(() => keyedInstance(line(bad), 'k', 3), bad).toThrow(RecordError);
    expect(() => keyedInstance(line('nope'), 'k', 3)).toThrow(/not JSON.*"k"/);
  });
});

/** Lines the scan must route as JSON.parse does, or leave to it. */
const CORPUS = [
  '{"k":"a"}',
  ' \t{ "k" : "a" , "x" : 1 } \r',
  '{"k":12345}',
  '{"k":-12}',
  '{"k":-0}',
  '{"k":0}',
  '{"k":1.0}',
  '{"k":1e3}',
  '{"k":1E+3}',
  '{"k":123456789012345}',
  '{"k":1234567890123456789}',
  '{"k":true,"k":false}',
  '{"k":false}',
  '{"k":null}',
  '{"k":"a","k":null}',
  '{"k":null,"k":"b"}',
  '{"k":"\\u0061"}',
  '{"\\u006b":"a"}',
  '{"k":"é"}',
  '{"é":1,"k":"a"}',
  '{"k":"a\\"b"}',
  '{"x":"a\\"b","k":3}',
  '{"x":"\\ud800","k":3}',
  '{"x":"\\x","k":3}',
  '{"x":"tab\there","k":3}',
  '{"k":[1]}',
  '{"k":{}}',
  '{"x":[1,{"k":2}]}',
  '{"__proto__":1}',
  '{"constructor":"c"}',
  '{"k":01}',
  '{"k":-}',
  '{"k":1.}',
  '{"k":.5}',
  '{"k":1e}',
  '{"k":tru}',
  '{"k":truex}',
  '{"k":"a",}',
  '{,"k":"a"}',
  '{"k" "a"}',
  '{"k":"a"} x',
  '\ufeff{"k":"a"}',
  '{"k":"a"',
  '{"k":"a',
  '{"k',
  '{',
  '',
  '{}',
  '{ }',
  '[]',
  'true',
];

describe('the byte scan (record-key.ts)', () => {
  it('routes every line of the corpus as JSON.parse does, for several keys', () => {
    for (const text of CORPUS)
      for (const key of ['k', 'x', '__proto__', 'constructor', 'é'])
        expect(outcome(keyedInstance, text, key), `${text} by ${key}`).toBe(
          outcome(parsedInstance, text, key),
        );
  });

  it('vouches for the common records itself, and leaves the odd ones to JSON.parse', () => {
    expect(scanKeyHash(line('{"id":1,"k":"k7","t":1767225600000,"v":"xx"}'), 'k')).toBe(
      fnv1a('"k7"'),
    );
    expect(scanKeyHash(line('{"id":1}'), 'k')).toBe(MISSING);
    for (const odd of ['{"k":"\\u0061"}', '{"k":1.0}', '{"k":-0}', '{"k":[1]}', 'nope'])
      expect(scanKeyHash(line(odd), 'k'), odd).toBe(UNSURE);
  });

  it('agrees with JSON.parse on random mutations of records', () => {
    const alphabet = '{}[]":,\\ 0123456789-+.eEtruefalsnk\tx\u00e9';
    let seed = 42;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const bases = [
      '{"id":12,"k":"k3","t":99,"v":"xx"}',
      '{"k":-5,"a":true,"b":null}',
      '{"a":"s","k":7}',
    ];
    for (let i = 0; i < 20_000; i++) {
      const chars = [...bases[random(bases.length)]!];
      for (let m = random(3) + 1; m > 0; m--) {
        const at = random(chars.length + 1);
        const op = random(3);
        const c = alphabet[random(alphabet.length)]!;
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, c);
        else chars[at] = c;
      }
      const text = chars.join('');
      expect(outcome(keyedInstance, text), text).toBe(outcome(parsedInstance, text));
    }
  });
});

describe('gather', () => {
  const block = Buffer.from('a\nb\n\nc\nd\n');
  const spans = lineSpans(block);

  it("copies each channel's lines, with every-instance lines to all", () => {
    const parts = gather(block, spans, Int32Array.from([0, 1, EVERY, 0]), 2);
    expect(parts.map(String)).toEqual(['a\nc\nd\n', 'b\nc\n']);
  });

  it('gives one channel the block itself when it has no empty line, else the lines without them', () => {
    const clean = Buffer.from('a\nb\n');
    expect(gather(clean, lineSpans(clean), Int32Array.from([0, EVERY]), 1)[0]).toBe(clean);
    expect(gather(block, spans, Int32Array.from([0, 0, 0, 0]), 1).map(String)).toEqual([
      'a\nb\nc\nd\n',
    ]);
  });

  it('leaves a channel with no lines empty', () => {
    expect(gather(block, spans, Int32Array.from([1, 1, 1, 1]), 3).map(String)).toEqual([
      '',
      'a\nb\nc\nd\n',
      '',
    ]);
  });
});
