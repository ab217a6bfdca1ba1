import { describe, expect, it } from 'vitest';
import { formatTick, niceCeiling, renderChart } from '../../bench/lib/svg-chart.ts';

describe('bench svg chart', () => {
  it('rounds an axis top up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 1.1, 3, 7, 10, 4200, 51_000].map(niceCeiling)).toEqual([
      1, 0.5, 1, 2, 5, 10, 10, 5000, 100_000,
    ]);
  });

  it('writes ticks with k and M', () => {
    expect([0, 12.5, 2500, 2_000_000].map(formatTick)).toEqual(['0', '12.5', '2.5k', '2M']);
  });

  it('draws one path per panel, scaled into the plot, with titles escaped', () => {
    const svg = renderChart({
      title: 'a < b',
      xLabel: 'seconds',
      panels: [
        {
          title: 'size',
          unit: 'MB',
          points: [
            [0, 0],
            [10, 5],
          ],
        },
        {
          title: 'rate',
          unit: 'tasks/s',
          points: [
            [0, 100],
            [10, 100],
          ],
        },
      ],
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &lt; b');
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    // The first panel's last point sits at the right edge and the top of its plot.
    expect(paths[0]).toMatch(/^M70\.0,254\.0 L700\.0,54\.0$/);
  });
});
