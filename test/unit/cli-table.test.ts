/** Text tables fitted to the terminal, CSV, and the progress line. */
import { describe, expect, it } from 'vitest';
import { fitWidths, renderTable, truncate } from '../../cli/format/table.ts';
import { toCsv } from '../../cli/format/csv.ts';
import {
  ProgressBar,
  ProgressTracker,
  formatDuration,
  renderProgress,
} from '../../cli/progress.ts';
import type { JobView } from '../../protocol/index.ts';

describe('renderTable', () => {
  const rows = [
    { name: 'alpha', n: 1, v: 2.5, note: 'short' },
    { name: 'b', n: 1234, v: null, note: 'a much longer note that will not fit a narrow terminal' },
  ];

  it('aligns columns, numbers to the right, NULL for null', () => {
    expect(renderTable(['name', 'n', 'v'], rows)).toBe(
      ['name      n     v', '-----  ----  ----', 'alpha     1  2.50', 'b      1234  NULL'].join(
        '\n',
      ),
    );
  });

  it('fits the width by cutting the widest cells with …', () => {
    const text = renderTable(['name', 'n', 'note'], rows, { maxWidth: 40 });
    const lines = text.split('\n');
    expect(lines.every((line) => [...line].length <= 40)).toBe(true);
    expect(lines[3]).toMatch(/^b\s+1234\s+a much longer.*…$/);
    expect(lines[2]).toMatch(/short$/);
    expect(renderTable(['name', 'n', 'note'], rows, { maxWidth: 200 })).not.toContain('…');
  });

  it('never shrinks columns below a minimum, and puts line breaks on one line', () => {
    expect(fitWidths([10, 10, 10], 10)).toEqual([4, 4, 4]);
    expect(fitWidths([3, 50], 20)).toEqual([3, 15]);
    expect(fitWidths([30, 20], 40)).toEqual([20, 18]);
    expect(renderTable(['x'], [{ x: 'a\nb' }])).toContain('a↵b');
  });

  it('truncate counts characters, not bytes', () => {
    expect(truncate('ééééé', 3)).toBe('éé…');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abc', 0)).toBe('');
  });
});

describe('toCsv', () => {
  it('quotes what needs quoting, empty for null, CRLF lines', () => {
    expect(
      toCsv(
        ['a', 'b,c'],
        [
          { a: 'x', 'b,c': 1 },
          { a: 'say "hi"\nthen', 'b,c': null },
        ],
      ),
    ).toBe('a,"b,c"\r\nx,1\r\n"say ""hi""\nthen",\r\n');
  });
});

describe('progress', () => {
  it('rows/s over the window and ETA from the task rate', () => {
    const t = new ProgressTracker(5000);
    t.add({ at: 0, phase: 'map', done: 0, total: 10, rows: 0 });
    expect(t.rowsPerSecond()).toBeUndefined();
    expect(t.etaSeconds()).toBeUndefined();
    t.add({ at: 1000, phase: 'map', done: 2, total: 10, rows: 500_000 });
    expect(t.rowsPerSecond()).toBe(500_000);
    expect(t.etaSeconds()).toBe(4);
    t.add({ at: 10_000, phase: 'reduce', done: 10, total: 10, rows: 1_000_000 });
    expect(t.etaSeconds()).toBe(0);
  });

  it('renders a bar with percent, phase, rows, rows/s and ETA, fitted to the width', () => {
    const line = renderProgress(
      { at: 0, phase: 'map', done: 3, total: 12, rows: 1_234_567 },
      456_000,
      75,
      100,
    );
    expect(line).toMatch(/^\[█+░+\]\s+25%  map 3\/12 tasks  1\.2M rows  456k rows\/s  ETA 1m15s$/);
    expect(
      [...renderProgress({ at: 0, phase: 'map', done: 0, total: 1 }, undefined, undefined, 40)]
        .length,
    ).toBeLessThan(40);
    expect(
      renderProgress({ at: 0, phase: 'running', done: 1, total: 2 }, undefined, undefined),
    ).toContain('ETA --');
    expect(formatDuration(3725)).toBe('1h02m');
  });

  const job = (state: JobView['state'], done: number): JobView => ({
    id: 'j',
    name: null,
    tenantId: null,
    kind: 'aggregate',
    state,
    spec: {},
    error: null,
    counts: { queued: 0, running: 0, succeeded: done, failed: 0, cancelled: 0 },
    attempts: { succeeded: 0, failed: 0, timed_out: 0, lost: 0, cancelled: 0 },
    progress: {
      phase: 'map',
      rowsRead: done * 100,
      bytesRead: 0,
      bytesCached: 0,
      tasksDone: done,
      tasksTotal: 4,
    },
    createdAt: '',
    startedAt: null,
    finishedAt: null,
    removeAfter: null,
  });

  it('draws in place on a terminal, and writes nothing elsewhere', () => {
    const written: string[] = [];
    const tty = new ProgressBar({ write: (s) => void written.push(s), isTTY: true, columns: 80 });
    tty.update(job('running', 1), 0);
    tty.update(job('succeeded', 4), 1000);
    tty.finish();
    expect(written[0]).toMatch(/^\r\[.*25%.*\x1b\[K$/);
    expect(written[1]).toContain('100%');
    expect(written.at(-1)).toBe('\n');
    const plain: string[] = [];
    const pipe = new ProgressBar({ write: (s) => void plain.push(s), isTTY: false });
    pipe.update(job('running', 1), 0);
    pipe.finish();
    expect(plain).toEqual([]);
  });
});
