/** The control plane's counters as transitions gather them (durable-objects/metric-tally.ts), and request route labels. */
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  count,
  labelKey,
  newTally,
  observe,
} from '../../durable-objects/metric-tally.ts';
import { routeLabel } from '../../src/metrics/route-label.ts';

describe('metric tally', () => {
  it('keys a series by its labels whatever their order', () => {
    expect(labelKey({ b: '2', a: '1' })).toBe(labelKey({ a: '1', b: '2' }));
    expect(labelKey({})).toBe('{}');
  });

  it('adds increments of one series together', () => {
    const tally = newTally();
    count(tally, 'x_total', { outcome: 'failed' });
    count(tally, 'x_total', { outcome: 'failed' }, 2);
    count(tally, 'x_total', { outcome: 'lost' });
    expect([...tally.values()]).toEqual([
      { name: 'x_total', labels: '{"outcome":"failed"}', by: 3 },
      { name: 'x_total', labels: '{"outcome":"lost"}', by: 1 },
    ]);
  });

  it('puts an observation in the first bucket whose bound holds it, and adds it to the sum', () => {
    expect(bucketOf(0)).toBe('0.005');
    expect(bucketOf(0.005)).toBe('0.005');
    expect(bucketOf(0.0051)).toBe('0.01');
    expect(bucketOf(3600)).toBe('3600');
    expect(bucketOf(3601)).toBe('+Inf');
    const tally = newTally();
    observe(tally, 'h_seconds', 2);
    observe(tally, 'h_seconds', -1); // a clock step back counts as no time
    expect([...tally.values()]).toEqual([
      { name: 'h_seconds', labels: '{"le":"2.5"}', by: 1 },
      { name: 'h_seconds_sum', labels: '{}', by: 2 },
      { name: 'h_seconds', labels: '{"le":"0.005"}', by: 1 },
    ]);
  });
});

describe('routeLabel', () => {
  it('is the pattern of the handler, never a middleware’s or the raw path', () => {
    const routes = [
      { method: 'ALL', path: '/*' },
      { method: 'ALL', path: '/v1/*' },
      { method: 'GET', path: '/v1/jobs/:id' },
    ];
    expect(routeLabel(routes)).toBe('/v1/jobs/:id');
  });

  it('is `unmatched` when only middleware matched', () => {
    expect(routeLabel([{ method: 'ALL', path: '/*' }])).toBe('unmatched');
    expect(routeLabel([])).toBe('unmatched');
  });
});
