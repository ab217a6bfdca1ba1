/**
 * How late the agent's event loop runs: a timer every RESOLUTION_MS (node:perf_hooks
 * monitorEventLoopDelay), whose delays past its own period are the lag. A busy loop delays task
 * reports, heartbeats and progress alike.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 20;
const NS_PER_SECOND = 1e9;

export class EventLoopLag {
  private readonly histogram: IntervalHistogram;

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
  }

  /**
   * The 99th percentile of the lag since the previous call (or the start), in seconds; then it
   * starts over, so each scrape sees its own interval. 0 when the timer has not fired since.
   */
  take(): number {
    const delay = this.histogram.count > 0 ? this.histogram.percentile(99) : 0;
    this.histogram.reset();
    return Math.max(0, delay / NS_PER_SECOND - RESOLUTION_MS / 1000);
  }

  stop(): void {
    this.histogram.disable();
  }
}
