/**
 * A stream task's control channel, its fd 3: `barrier NAME` waits until every instance of its
 * stage has reached NAME (the agent answers `go NAME`), and `result JSON` sets the task's result.
 * Anything else fails the task, naming the line.
 */
import type { Duplex } from 'node:stream';
import { BarrierName, MAX_STAGE_RESULT_BYTES } from '../../protocol/index.ts';
import type { JsonResult } from '../task-outcome.ts';
import { LineBlocks, linesOf, RecordError } from './record-lines.ts';

export interface ControlHooks {
  /** Resolves when the barrier is released for this task. */
  barrier(name: string): Promise<void>;
  fail(message: string): void;
}

export class Control {
  private readonly lines = new LineBlocks();
  result: JsonResult | undefined;

  constructor(
    private readonly channel: Duplex,
    private readonly hooks: ControlHooks,
  ) {
    channel.on('error', () => undefined);
    channel.on('data', (chunk: Buffer) => this.take(chunk));
  }

  close(): void {
    this.channel.destroy();
  }

  private take(chunk: Buffer): void {
    try {
      for (const line of linesOf(this.lines.push(chunk))) this.command(line.toString('utf8'));
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      this.hooks.fail(`fd 3: ${error.message}`);
    }
  }

  private command(line: string): void {
    const space = line.indexOf(' ');
    const [verb, rest] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    if (verb === 'barrier') return this.barrier(rest.trim());
    if (verb === 'result') return this.setResult(rest);
    this.hooks.fail(
      `fd 3: unknown command "${line.slice(0, 80)}" (expected "barrier NAME" or "result JSON")`,
    );
  }

  private barrier(name: string): void {
    const parsed = BarrierName.safeParse(name);
    if (!parsed.success)
      return this.hooks.fail(`fd 3: barrier: ${parsed.error.issues[0]?.message}`);
    void this.hooks.barrier(name).then(() => {
      if (!this.channel.destroyed) this.channel.write(`go ${name}\n`);
    });
  }

  private setResult(json: string): void {
    if (Buffer.byteLength(json) > MAX_STAGE_RESULT_BYTES)
      return this.hooks.fail(`fd 3: a result is at most ${MAX_STAGE_RESULT_BYTES} bytes of JSON`);
    try {
      this.result = JSON.parse(json) as JsonResult;
    } catch {
      this.hooks.fail(`fd 3: the result is not JSON: ${json.slice(0, 80)}`);
    }
  }
}
