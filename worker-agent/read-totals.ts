/**
 * What the agent's map tasks have read, summed over every task since the agent started: rows, and
 * bytes from the object store and from the block cache (the agent's /metrics). A task reports its
 * own running figures; only what is new since its last report is added, so the throttled reports
 * and the final figures that come with its result never count a byte twice.
 */
import { MapResult } from '../protocol/index.ts';
import type { TaskOutcome } from './task-outcome.ts';

export interface ReadFigures {
  rowsRead: number;
  /** Every byte the reader took, the cache's included. */
  bytesRead: number;
  /** Of `bytesRead`, what the cache served. */
  bytesCached?: number;
}

interface Counted {
  rows: number;
  storeBytes: number;
  cacheBytes: number;
}

const FinalFigures = MapResult.pick({ rowsRead: true, bytesRead: true, bytesCached: true });

export class ReadTotals {
  private readonly totals: Counted = { rows: 0, storeBytes: 0, cacheBytes: 0 };
  private readonly tasks = new Map<string, Counted>();

  /** A task's figures so far. */
  report(task: string, figures: ReadFigures): void {
    const cacheBytes = figures.bytesCached ?? 0;
    const now = {
      rows: figures.rowsRead,
      storeBytes: Math.max(0, figures.bytesRead - cacheBytes),
      cacheBytes,
    };
    const before = this.tasks.get(task) ?? { rows: 0, storeBytes: 0, cacheBytes: 0 };
    for (const key of ['rows', 'storeBytes', 'cacheBytes'] as const) {
      this.totals[key] += Math.max(0, now[key] - before[key]);
      now[key] = Math.max(now[key], before[key]);
    }
    this.tasks.set(task, now);
  }

  /** The task ended: a map's result carries its final figures, counted before it is forgotten. */
  end(task: string, kind: string, outcome: TaskOutcome): void {
    if (kind === 'aggregate-map' && outcome.ok) {
      const final = FinalFigures.safeParse(outcome.result);
      if (final.success) this.report(task, final.data);
    }
    this.tasks.delete(task);
  }

  get rows(): number {
    return this.totals.rows;
  }
  get storeBytes(): number {
    return this.totals.storeBytes;
  }
  get cacheBytes(): number {
    return this.totals.cacheBytes;
  }
}
