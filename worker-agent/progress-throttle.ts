/**
 * One task's progress reports: at most one per interval, the first an interval after the task
 * started, so a task that ends sooner sends none (its end report says as much, and a map of 40 ms
 * would otherwise cost the Scheduler a frame to read). The latest report held back goes out when
 * the interval is over; at the task's end it goes out first if the task failed (a pipeline's
 * failed step) and is dropped if it succeeded.
 */
export class ProgressThrottle<T> {
  private last: number;
  private pending: { value: T } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ended = false;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (value: T) => void,
  ) {
    this.last = Date.now();
  }

  readonly report = (value: T): void => {
    if (this.ended) return;
    const now = Date.now();
    if (this.timer === null && now - this.last >= this.intervalMs) {
      this.last = now;
      this.send(value);
      return;
    }
    this.pending = { value };
    this.timer ??= setTimeout(this.flush, this.intervalMs - (now - this.last)).unref();
  };

  /** The task ended: a report held back goes out now when `sendHeld` (before a failure's report). */
  end(sendHeld: boolean): void {
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (!sendHeld) this.pending = null;
    this.flush();
  }

  private readonly flush = (): void => {
    this.timer = null;
    this.last = Date.now();
    const held = this.pending;
    this.pending = null;
    if (held) this.send(held.value);
  };
}
