/** The dashboard's event streams counted per caller and in all (durable-objects/events.ts). */
import { describe, expect, it } from 'vitest';
import { EventStreams, MAX_STREAMS, MAX_STREAMS_PER_CALLER } from '../../durable-objects/events.ts';
import { SchedulerError } from '../../durable-objects/failure.ts';

/** A stream that records being closed from outside, and lets itself go when it is. */
function openOne(streams: EventStreams, caller: string) {
  const stream = { closed: false, release: () => {}, close: () => {} };
  stream.close = () => {
    stream.closed = true;
    stream.release();
  };
  stream.release = streams.open(caller, stream);
  return stream;
}

describe('EventStreams', () => {
  it("closes a caller's oldest stream for a new one past its cap, and no other caller's", () => {
    const streams = new EventStreams();
    const other = openOne(streams, 'tenant-b');
    const mine = Array.from({ length: MAX_STREAMS_PER_CALLER }, () => openOne(streams, 'tenant-a'));
    expect(streams.count('tenant-a')).toBe(MAX_STREAMS_PER_CALLER);
    const newest = openOne(streams, 'tenant-a');
    expect(mine[0]?.closed).toBe(true);
    expect(mine.slice(1).every((s) => !s.closed)).toBe(true);
    expect(newest.closed).toBe(false);
    expect(other.closed).toBe(false);
    expect(streams.count('tenant-a')).toBe(MAX_STREAMS_PER_CALLER);
    expect(streams.count()).toBe(MAX_STREAMS_PER_CALLER + 1);
  });

  it('refuses a stream past the Scheduler-wide cap with a 429, and admits one when another ends', () => {
    const streams = new EventStreams();
    const open = Array.from({ length: MAX_STREAMS }, (_, i) =>
      openOne(streams, `caller-${i % 16}`),
    );
    let refused: unknown = null;
    try {
      openOne(streams, 'caller-new');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SchedulerError);
    expect((refused as SchedulerError).failure).toMatchObject({
      status: 429,
      code: 'rate_limited',
    });
    expect(streams.count('caller-new')).toBe(0);
    open[0]?.release();
    open[0]?.release(); // twice: counted once
    expect(streams.count()).toBe(MAX_STREAMS - 1);
    expect(openOne(streams, 'caller-new').closed).toBe(false);
  });
});
