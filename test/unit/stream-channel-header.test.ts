/** channel-header.ts: a data connection's first line, parsed strictly; secrets compared in constant time. */
import { describe, expect, it } from 'vitest';
import {
  encodeHeader,
  parseHeader,
  sameSecret,
  type ChannelHeader,
} from '../../worker-agent/streams/channel-header.ts';

const header: ChannelHeader = {
  v: 1,
  taskId: '3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b',
  epoch: 2,
  secret: 'ab'.repeat(32),
  from: 'produce/0',
};

describe('channel header', () => {
  it('encodes one line and parses it back', () => {
    const line = encodeHeader(header);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(parseHeader(line.trimEnd())).toEqual(header);
  });

  it.each([
    ['not JSON', 'GET / HTTP/1.1'],
    ['an empty line', ''],
    ['JSON of another shape', '[1,2]'],
    ['another version', JSON.stringify({ ...header, v: 2 })],
    ['a task id that is no uuid', JSON.stringify({ ...header, taskId: '../etc' })],
    ['epoch 0', JSON.stringify({ ...header, epoch: 0 })],
    ['a short secret', JSON.stringify({ ...header, secret: 'ab' })],
    ['an upper-case secret', JSON.stringify({ ...header, secret: 'AB'.repeat(32) })],
    ['a long from', JSON.stringify({ ...header, from: 'x'.repeat(129) })],
    ['an extra field', JSON.stringify({ ...header, admin: true })],
    ['a missing field', JSON.stringify({ ...header, from: undefined })],
  ])('refuses %s', (_what, line) => {
    expect(parseHeader(line)).toBeNull();
  });

  it('compares secrets: equal, different, and of other lengths', () => {
    expect(sameSecret('ab'.repeat(32), 'ab'.repeat(32))).toBe(true);
    expect(sameSecret('ab'.repeat(32), 'ac'.repeat(32))).toBe(false);
    expect(sameSecret('ab'.repeat(32), 'ab')).toBe(false);
    expect(sameSecret('', 'ab')).toBe(false);
  });
});
