/**
 * FROM to what an aggregation reads: one quoted `'s3://bucket/path'`, bare or inside DuckDB's
 * `read_parquet`/`read_csv`/`read_csv_auto` (or `read_arrow`). A path ending in `/` (or without an
 * extension) is a folder, `folder/*.ext` too; `key.ext` is one object. The format comes from the
 * function, else the extension, else Parquet.
 */
import type { InputFormat } from '../../protocol/index.ts';
import { child, children, literal, positionOf, text, type SqlNode } from './sql-node.ts';
import { SqlRefusal } from './sql-refusal.ts';

export interface SqlFrom {
  /** The URL's bucket (or store name): what follows `s3://`, up to the first `/`. */
  bucket: string;
  /** A folder (empty or ending with `/`), or one object's key. */
  key: string;
  /** Whether `key` names one object rather than a folder. */
  object: boolean;
  format: InputFormat;
}

const FROM_SUPPORTED =
  "FROM takes one quoted 's3://bucket/folder/', 's3://bucket/folder/*.parquet' or 's3://bucket/key.csv', or read_parquet('…'), read_csv('…'), read_arrow('…') of one";

const FUNCTIONS: Record<string, InputFormat> = {
  read_parquet: 'parquet',
  parquet_scan: 'parquet',
  read_csv: 'csv',
  read_csv_auto: 'csv',
  read_arrow: 'arrow',
};
const EXTENSIONS: Record<string, InputFormat> = {
  parquet: 'parquet',
  csv: 'csv',
  arrow: 'arrow',
  arrows: 'arrow',
  ipc: 'arrow',
  feather: 'arrow',
};

function refuse(what: string, node?: SqlNode): never {
  throw new SqlRefusal('FROM', `${what}; ${FROM_SUPPORTED}`, positionOf(node));
}

/** The URL and the function's format (if any) of the one table the FROM names. */
function urlOf(from: SqlNode[]): { url: string; format?: InputFormat; node?: SqlNode } {
  const [table, ...more] = from;
  if (!table) refuse('a FROM clause is needed');
  if (more.length > 0)
    refuse(more.some((t) => t['join']) ? 'joins are not supported' : 'only one table is read');
  const quoted = text(table, 'table');
  if (quoted !== undefined) {
    if (table['db'] || table['schema']) refuse(`"${quoted}" is not an s3:// URL`);
    return { url: quoted };
  }
  const call = child(table, 'expr');
  if (call?.['ast'] !== undefined) refuse('subqueries are not supported');
  if (!call || call['type'] !== 'function') refuse('this table is not supported', call);
  const name = children(child(call, 'name') ?? {}, 'name').map((part) => text(part, 'value'));
  const format = name.length === 1 ? FUNCTIONS[String(name[0]).toLowerCase()] : undefined;
  if (!format) refuse(`the table function ${name.join('.')} is not supported`, call);
  const args = children(child(call, 'args') ?? {}, 'value');
  const url = args.length === 1 ? literal(args[0]!) : undefined;
  if (typeof url !== 'string') refuse(`${name[0]} takes one quoted URL and no options here`, call);
  return { url, format, node: call };
}

/** What the FROM clause reads: bucket, folder or key, and format. */
export function sqlFrom(from: SqlNode[]): SqlFrom {
  const { url, format, node } = urlOf(from);
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) refuse(`"${url}" is not an s3:// URL`, node);
  const bucket = match[1]!;
  let path = match[2]!;
  const glob = /(^|\/)\*\.([A-Za-z0-9]+)$/.exec(path);
  if (glob) path = path.slice(0, glob.index + glob[1]!.length);
  if (/[*?[\]{}]/.test(path))
    refuse(`"${url}": a glob other than a last "*.ext" is not supported`, node);
  const last = path.slice(path.lastIndexOf('/') + 1);
  const extension = glob?.[2] ?? /\.([A-Za-z0-9]+)$/.exec(last)?.[1];
  const named = extension ? EXTENSIONS[extension.toLowerCase()] : undefined;
  if (glob && !named) refuse(`"${url}": unknown extension .${glob[2]}`, node);
  if (format && named && format !== named)
    refuse(
      `"${url}" is ${named}, not what ${format === 'csv' ? 'read_csv' : `read_${format}`} reads`,
      node,
    );
  const object = !glob && named !== undefined;
  const key = object || path === '' || path.endsWith('/') ? path : `${path}/`;
  return { bucket, key, object, format: format ?? named ?? 'parquet' };
}
