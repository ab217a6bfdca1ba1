/**
 * Which reader decodes each of a query's leaf columns: the JavaScript reader where it can, parquet-wasm
 * for the others, and neither for a column whose values either would get wrong or whose bytes
 * they cannot read (refused with the column and the feature named).
 */
import type { ParquetMetadata } from './metadata.ts';
import { unsupportedReason } from './row-group.ts';

export interface ColumnPlan {
  /** Leaves the JavaScript reader decodes. */
  fast: number[];
  /** Leaves left to parquet-wasm. */
  fallback: number[];
  /** Why the read is refused (`column x: … not supported`), or null. */
  refusal: string | null;
}

/** Why neither reader reads `leaf` in row groups `groups`, or null. */
export function refusalReason(
  meta: ParquetMetadata,
  leaf: number,
  groups: { start: number; end: number },
): string | null {
  const column = meta.leaves[leaf]!;
  if (column.refused) return `column ${column.name}: ${column.refused}`;
  for (let group = groups.start; group < groups.end; group++) {
    if (meta.groups[group]!.chunks[leaf]!.encrypted) {
      return `column ${column.name}: encrypted: not supported`;
    }
  }
  return null;
}

export function planColumns(
  meta: ParquetMetadata,
  leaves: readonly number[],
  groups: { start: number; end: number },
): ColumnPlan {
  const refusals = leaves.map((leaf) => refusalReason(meta, leaf, groups));
  const fast = leaves.filter((leaf) => unsupportedReason(meta, [leaf], groups) === null);
  return {
    fast,
    fallback: leaves.filter((leaf) => !fast.includes(leaf)),
    refusal: refusals.find((reason) => reason !== null) ?? null,
  };
}

/** The file's top-level columns that some reader reads (for a query that needs none). */
export function readableColumns(meta: ParquetMetadata): string[] {
  const all = { start: 0, end: meta.groups.length };
  const refused = new Set(
    meta.leaves.flatMap((leaf, i) => (refusalReason(meta, i, all) ? [leaf.name] : [])),
  );
  return meta.columns.filter((name) => !refused.has(name));
}
