/** The Prometheus text renderer (protocol/prometheus.ts): layout, escaping, numbers, histograms. */
import { describe, expect, it } from 'vitest';
import {
  escapeLabelValue,
  formatValue,
  histogramSeries,
  renderExposition,
} from '../../protocol/prometheus.ts';

describe('renderExposition', () => {
  it('writes HELP and TYPE before each family, labels in order, one sample a line', () => {
    const text = renderExposition([
      {
        name: 'tm_queue_tasks',
        help: 'Live tasks.',
        type: 'gauge',
        samples: [
          { labels: { tenant: 'acme', state: 'queued' }, value: 3 },
          { labels: { tenant: '', state: 'running' }, value: 0 },
        ],
      },
      { name: 'tm_up_total', help: 'Counted.', type: 'counter', samples: [{ value: 7 }] },
    ]);
    expect(text).toBe(
      [
        '# HELP tm_queue_tasks Live tasks.',
        '# TYPE tm_queue_tasks gauge',
        'tm_queue_tasks{tenant="acme",state="queued"} 3',
        'tm_queue_tasks{tenant="",state="running"} 0',
        '# HELP tm_up_total Counted.',
        '# TYPE tm_up_total counter',
        'tm_up_total 7',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const text = renderExposition([
      {
        name: 'm',
        help: 'a \\ help\nwith "quotes"',
        type: 'gauge',
        samples: [{ labels: { tenant: 'evil"} 1\nm{x="' }, value: 1 }],
      },
    ]);
    const lines = text.trimEnd().split('\n');
    // The hostile value stays inside its one line: no sample can be forged through a label.
    expect(lines).toEqual([
      '# HELP m a \\\\ help\\nwith "quotes"',
      '# TYPE m gauge',
      'm{tenant="evil\\"} 1\\nm{x=\\""} 1',
    ]);
  });

  it('writes infinities and NaN as Prometheus reads them', () => {
    expect([Infinity, -Infinity, NaN, 0.25, 1e21].map(formatValue)).toEqual([
      '+Inf',
      '-Inf',
      'NaN',
      '0.25',
      '1e+21',
    ]);
  });

  it('writes a histogram as cumulative buckets, +Inf, sum and count', () => {
    const series = histogramSeries([0.1, 1, 10], [2, 0, 3, 1], 20.5, { kind: 'x' });
    expect(series).toEqual({
      labels: { kind: 'x' },
      buckets: [
        { le: 0.1, count: 2 },
        { le: 1, count: 2 },
        { le: 10, count: 5 },
      ],
      sum: 20.5,
      count: 6,
    });
    expect(
      renderExposition([{ name: 'h_seconds', help: 'H.', type: 'histogram', series: [series] }]),
    ).toBe(
      [
        '# HELP h_seconds H.',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{kind="x",le="0.1"} 2',
        'h_seconds_bucket{kind="x",le="1"} 2',
        'h_seconds_bucket{kind="x",le="10"} 5',
        'h_seconds_bucket{kind="x",le="+Inf"} 6',
        'h_seconds_sum{kind="x"} 20.5',
        'h_seconds_count{kind="x"} 6',
        '',
      ].join('\n'),
    );
  });

  it('renders nothing for no families', () => {
    expect(renderExposition([])).toBe('');
  });
});
