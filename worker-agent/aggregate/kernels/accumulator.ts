/** The contract of one aggregate's per-group state, on the map side (rows) and the reduce side (partials). */
import { Field, type Data } from 'apache-arrow';
import type { ColumnView } from './column-view.ts';
import { KernelError } from './errors.ts';

/** One column of a partial table. */
export interface PartialColumn {
  readonly field: Field;
  readonly data: Data;
}

/** The columns of the partial batch being merged, by name. */
export type PartialBatch = (name: string) => Data;

export interface Accumulator {
  /** Makes room for group ids below `groups`. */
  reserve(groups: number): void;
  /**
   * Map side: folds row `rows[k]` of a batch into group `groups[k]` (row k when `rows` is null: no
   * filter); `view` is the column (none for count(*)).
   */
  add(view: ColumnView | null, rows: Int32Array | null, groups: Int32Array, count: number): void;
  /** Reduce side: folds row `k` of a partial batch into group `groups[k]`. */
  merge(partial: PartialBatch, groups: Int32Array, count: number): void;
  /** The partial state of `groups`, as partial-table columns. */
  partial(groups: Int32Array, length: number): PartialColumn[];
  /** The final values of groups 0..length-1. */
  final(length: number): Data;
}

/** Throws unless the view is of the expected kind (a bug, never bad input: columns are checked when bound). */
export function expectKind<K extends ColumnView['kind']>(
  view: ColumnView | null,
  kinds: readonly K[],
): Extract<ColumnView, { kind: K }> {
  if (view === null || !(kinds as readonly string[]).includes(view.kind)) {
    throw new KernelError(
      `internal: expected a ${kinds.join(' or ')} column, got ${view?.kind ?? 'none'}`,
    );
  }
  return view as Extract<ColumnView, { kind: K }>;
}
