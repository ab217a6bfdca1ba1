/** The progress bar of a running job: rows/s and ETA, redrawn in place on a terminal only. */
import type { JobView } from '../protocol/index.ts';

export interface ProgressSample {
  /** Milliseconds (any clock, as long as it is the same one). */
  at: number;
  phase: string;
  done: number;
  total: number;
  /** Rows read so far (aggregations only). */
  rows?: number;
}

/** What a job view says about how far it has come. */
export function sampleOf(job: JobView, at: number): ProgressSample {
  const { counts } = job;
  if (job.progress) {
    const p = job.progress;
    return { at, phase: p.phase, done: p.tasksDone, total: p.tasksTotal, rows: p.rowsRead };
  }
  const total =
    counts.queued + counts.running + counts.succeeded + counts.failed + counts.cancelled;
  const done = counts.succeeded + counts.failed + counts.cancelled;
  return { at, phase: job.state, done, total };
}

/** Keeps recent samples: rows/s over the last few seconds, and the ETA from the task rate. */
export class ProgressTracker {
  private readonly samples: ProgressSample[] = [];
  private first: ProgressSample | undefined;

  constructor(private readonly windowMs = 5000) {}

  add(sample: ProgressSample): void {
    this.first ??= sample;
    this.samples.push(sample);
    while (this.samples.length > 2 && sample.at - this.samples[0]!.at > this.windowMs)
      this.samples.shift();
  }

  /** Rows per second over the window, or undefined before two samples or without rows. */
  rowsPerSecond(): number | undefined {
    const oldest = this.samples[0];
    const last = this.samples.at(-1);
    if (!oldest || !last || last.rows === undefined || oldest.rows === undefined) return undefined;
    const seconds = (last.at - oldest.at) / 1000;
    return seconds > 0 ? (last.rows - oldest.rows) / seconds : undefined;
  }

  /** Seconds left at the task rate seen since the first sample; undefined until tasks finish. */
  etaSeconds(): number | undefined {
    const first = this.first;
    const last = this.samples.at(-1);
    if (!first || !last || last.total <= 0) return undefined;
    if (last.done >= last.total) return 0;
    const doneSince = last.done - first.done;
    const seconds = (last.at - first.at) / 1000;
    if (doneSince <= 0 || seconds <= 0) return undefined;
    return ((last.total - last.done) / doneSince) * seconds;
  }

  last(): ProgressSample | undefined {
    return this.samples.at(-1);
  }
}

const compact = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(1)}G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)}M`
      : n >= 1e4
        ? `${(n / 1e3).toFixed(0)}k`
        : String(Math.round(n));

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line: `[██████░░░░]  60%  map 6/10 tasks  1.2M rows  450k rows/s  ETA 3s`, fitted to `width`. */
export function renderProgress(
  sample: ProgressSample,
  rate: number | undefined,
  eta: number | undefined,
  width = 80,
): string {
  const fraction = sample.total > 0 ? Math.min(1, sample.done / sample.total) : 0;
  const parts = [
    `${String(Math.floor(fraction * 100)).padStart(3)}%`,
    `${sample.phase} ${sample.done}/${sample.total} tasks`,
    ...(sample.rows !== undefined ? [`${compact(sample.rows)} rows`] : []),
    ...(sample.rows !== undefined ? [`${rate === undefined ? '-' : compact(rate)} rows/s`] : []),
    `ETA ${eta === undefined ? '--' : formatDuration(eta)}`,
  ];
  const text = parts.join('  ');
  const barWidth = Math.max(10, Math.min(30, width - text.length - 4));
  const filled = Math.round(fraction * barWidth);
  const line = `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}] ${text}`;
  return [...line].slice(0, Math.max(20, width - 1)).join('');
}

export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/** Draws the bar in place (`\r`, erase line) on a terminal; does nothing elsewhere. */
export class ProgressBar {
  private readonly tracker = new ProgressTracker();
  private drawn = false;

  constructor(private readonly out: ProgressOutput) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  update(job: JobView, now = Date.now()): void {
    this.tracker.add(sampleOf(job, now));
    if (!this.enabled) return;
    const sample = this.tracker.last()!;
    const width = this.out.columns || 80;
    const line = renderProgress(
      sample,
      this.tracker.rowsPerSecond(),
      this.tracker.etaSeconds(),
      width,
    );
    this.out.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  /** Ends the line the bar is on. */
  finish(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
