/** How `tm logs` writes output: stdout entries to stdout, stderr and system entries to stderr. */
import type { LogEntry, LogStreamEnd } from '../protocol/index.ts';
import type { Ctx } from './context.ts';
import type { FollowEvent, LogScope } from './sdk/client.ts';

export function printLogEntry(ctx: Ctx, entry: LogEntry): void {
  if (ctx.json) ctx.out(JSON.stringify(entry));
  else if (entry.stream === 'stdout') ctx.stdout.write(entry.data);
  else if (entry.stream === 'stderr') ctx.stderr.write(entry.data);
  else ctx.stderr.write(`[tm] ${entry.data.replace(/\n?$/, '\n')}`);
}

/** Prints the output so far, page by page. */
export async function printLogs(ctx: Ctx, scope: LogScope): Promise<void> {
  for (let after = 0; ;) {
    const page = await ctx.client.logs(scope, after);
    for (const entry of page.entries) printLogEntry(ctx, entry);
    if (page.next === null || page.entries.length === 0) return;
    after = page.next;
  }
}

/** Prints the output as it comes until the job (task) ends; resolves to the state it ended in. */
export async function followLogs(ctx: Ctx, scope: LogScope): Promise<string | undefined> {
  for await (const event of ctx.client.followLogs(scope)) {
    if (isEnd(event)) {
      if (ctx.json) ctx.out(JSON.stringify(event));
      return event.state;
    }
    printLogEntry(ctx, event);
  }
  return undefined;
}

const isEnd = (event: FollowEvent): event is LogStreamEnd => 'end' in event;
