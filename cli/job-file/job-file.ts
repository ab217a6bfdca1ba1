/**
 * tm's dataflow job files: TOML (the default), YAML or JSON, mapping 1:1 onto the protocol's
 * DataflowJobRequest (`kind` may be left out). A bad file is a usage error that names the file,
 * the line and the key path of each problem, or the line and column of a syntax error.
 */
import { readFile } from 'node:fs/promises';
import { DataflowJobRequest } from '../../protocol/index.ts';
import { UsageError } from '../exit.ts';
import { formatKeyPath } from './key-path.ts';
import { formatOf, parseSource, type SourceFormat } from './parse-source.ts';
import { SourceSyntaxError, type ParsedSource } from './source.ts';
import { fileIssues, type FileIssue } from './zod-issues.ts';

export class JobFileError extends UsageError {
  constructor(
    message: string,
    readonly issues: readonly FileIssue[] = [],
  ) {
    super(message);
    this.name = 'JobFileError';
  }
}

/** Parses and checks a job file's text; `file` names it in messages and picks its format. */
export function parseJobFile(text: string, file: string): DataflowJobRequest {
  const source = parseOrRefuse(text, file, formatOf(file));
  const value = source.value;
  const job =
    typeof value === 'object' && value !== null && !Array.isArray(value) && !('kind' in value)
      ? { kind: 'dataflow', ...value }
      : value;
  const parsed = DataflowJobRequest.safeParse(job);
  if (parsed.success) return parsed.data;
  const issues = fileIssues(parsed.error, source);
  const lines = issues.map(
    (issue) =>
      `  ${file}${issue.line === undefined ? '' : `:${issue.line}`}: ${formatKeyPath(issue.path)}: ${issue.message}`,
  );
  throw new JobFileError(`${file} is not a valid dataflow job:\n${lines.join('\n')}`, issues);
}

/** The parsed text, or a JobFileError naming the line and column of its syntax error. */
function parseOrRefuse(text: string, file: string, format: SourceFormat): ParsedSource {
  try {
    return parseSource(text, format);
  } catch (error) {
    if (!(error instanceof SourceSyntaxError)) throw error;
    const at = error.column === undefined ? `${error.line}` : `${error.line}:${error.column}`;
    throw new JobFileError(`${file}:${at}: ${format.toUpperCase()} syntax error: ${error.message}`);
  }
}

/** Reads the job file at `file` and parses it (see parseJobFile). */
export async function readJobFile(file: string): Promise<DataflowJobRequest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new JobFileError(`cannot read the job file ${file} (${why})`);
  }
  return parseJobFile(text.replace(/^\uFEFF/, ''), file);
}
