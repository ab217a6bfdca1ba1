/**
 * Pages of views within a byte budget, so that no reply grows with the data: rows are read in
 * small batches (never a whole page of large rows at once, in an isolate of 128 MB) and their
 * views kept until `limit` rows or VIEW_BUDGET_BYTES of JSON, whichever comes first. A page holds
 * at least one row: each row is bounded on its own (a spec, a result preview, a log chunk).
 */
import { VIEW_BUDGET_BYTES, jsonBytes } from '../protocol/index.ts';

export interface BudgetPage<R, V> {
  views: V[];
  /** The last row shown, to key the next page on; null when the page is empty. */
  last: R | null;
  /** Whether rows remain after this page. */
  more: boolean;
}

export interface PageOptions {
  limit: number;
  /** Rows read per query: about the budget over the largest view of one row. */
  batch: number;
  budget?: number;
}

/**
 * Reads rows with `read(after, count)` (the rows after `after`, null: from the start, in page
 * order) and turns them into views until the page is full.
 */
export function budgetPage<R, V>(
  read: (after: R | null, count: number) => R[],
  view: (row: R) => V,
  { limit, batch, budget = VIEW_BUDGET_BYTES }: PageOptions,
): BudgetPage<R, V> {
  const views: V[] = [];
  let last: R | null = null;
  let used = 0;
  for (;;) {
    const want = Math.min(batch, limit - views.length);
    // One row more than wanted says whether any follow.
    const rows = read(last, want + 1);
    for (const row of rows.slice(0, want)) {
      const shown = view(row);
      used += jsonBytes(shown);
      if (views.length > 0 && used > budget) return { views, last, more: true };
      views.push(shown);
      last = row;
    }
    if (rows.length <= want) return { views, last, more: false };
    if (views.length >= limit) return { views, last, more: true };
  }
}
