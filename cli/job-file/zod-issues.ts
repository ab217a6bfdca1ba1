/**
 * The protocol schema's zod issues as problems in a job file: each with its key path, its line,
 * and a message. Generic over every issue zod reports, so a field added to the schema needs
 * nothing here: an unknown key is named on its own line, a missing one at its parent's.
 */
import type { z } from 'zod';
import type { KeyPath } from './key-path.ts';
import type { ParsedSource } from './source.ts';

export interface FileIssue {
  path: KeyPath;
  /** Where the key is written, else where its nearest ancestor is; undefined: nowhere in the file. */
  line: number | undefined;
  message: string;
}

export function fileIssues(error: z.ZodError, source: ParsedSource): FileIssue[] {
  const issues = error.issues.flatMap((issue): { path: KeyPath; message: string }[] => {
    const path = issue.path.map((key) => (typeof key === 'number' ? key : String(key)));
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
    if (path.length > 0 && valueAt(source.value, path) === undefined)
      return [{ path, message: missing(issue) }];
    if (issue.code === 'invalid_union') return [{ path, message: unionMessage(issue) }];
    return [{ path, message: issue.message }];
  });
  return issues
    .map((issue) => ({ ...issue, line: source.lineOf(issue.path) }))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** What a missing key should have been, from what zod expected there. */
function missing(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_union' && 'options' in issue && issue.options?.length)
    return `missing (one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')})`;
  if (issue.code === 'invalid_union') {
    const types = expectedTypes(issue);
    return types.length ? `missing (expected ${types.join(' or ')})` : 'missing';
  }
  if (issue.code === 'invalid_value')
    return `missing (one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')})`;
  return 'missing';
}

/**
 * A value no branch of a union took (zod says only "Invalid input"): what the branch of the
 * value's own type objected to, or else the types the branches expected.
 */
function unionMessage(issue: z.core.$ZodIssueInvalidUnion): string {
  const ofItsType = issue.errors.find(
    (branch) => branch.length > 0 && branch.every((i) => i.code !== 'invalid_type'),
  );
  if (ofItsType) return ofItsType.map((i) => i.message).join('; ');
  const types = expectedTypes(issue);
  return types.length ? `${issue.message}: expected ${types.join(' or ')}` : issue.message;
}

/** The types a union's branches expected of the value itself. */
function expectedTypes(issue: z.core.$ZodIssueInvalidUnion): string[] {
  const types = issue.errors.flatMap((branch) =>
    branch.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [i.expected] : [])),
  );
  return [...new Set(types)];
}

function valueAt(value: unknown, path: KeyPath): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}
