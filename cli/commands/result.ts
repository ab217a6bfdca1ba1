/** `tm result ID [--format table|csv|json|arrow] [--out FILE]`: an aggregation's result. */
import { writeFile } from 'node:fs/promises';
import { stringFlag, takePositionals } from '../args.ts';
import type { Command } from '../context.ts';
import { UsageError } from '../exit.ts';
import { toCsv } from '../format/csv.ts';
import { renderTable } from '../format/table.ts';

const FORMATS = ['table', 'csv', 'json', 'arrow'] as const;

export const result: Command = {
  name: 'result',
  summary: "an aggregation's result as a table, CSV, JSON or an Arrow IPC stream",
  usage: 'ID [--format table|csv|json|arrow] [--out FILE]',
  details:
    "JSON is the API's page with every row; arrow is the IPC stream the API serves, written to\n" +
    '--out FILE or to stdout when that is not a terminal. --json is --format json.',
  flags: {
    format: { type: 'string', value: 'FORMAT', help: 'table (default), csv, json or arrow' },
    out: { type: 'string', value: 'FILE', help: 'write to FILE instead of stdout' },
  },
  async run(ctx) {
    const [id] = takePositionals(ctx.args, ['ID']);
    const format = stringFlag(ctx.args, 'format') ?? (ctx.json ? 'json' : 'table');
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const out = stringFlag(ctx.args, 'out');
    if (format === 'arrow') {
      if (!out && ctx.stdout.isTTY)
        throw new UsageError('will not write Arrow bytes to a terminal: use --out FILE or a pipe');
      const bytes = await ctx.client.resultArrow(id!);
      if (out) await writeFile(out, bytes);
      else ctx.stdout.write(bytes);
      return 0;
    }
    const page = await ctx.client.resultAll(id!);
    const columns = page.columns.map((c) => c.name);
    const text =
      format === 'json'
        ? JSON.stringify(page, null, 2) + '\n'
        : format === 'csv'
          ? toCsv(columns, page.rows)
          : renderTable(columns, page.rows, { maxWidth: out ? Infinity : ctx.width }) + '\n';
    if (out) await writeFile(out, text);
    else ctx.stdout.write(text);
    return 0;
  },
};
