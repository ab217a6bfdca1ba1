/** The map step: filter a split's batches and aggregate them per group, then cut partial tables per radix partition. */
import { Field, type RecordBatch, type Schema, type Table } from 'apache-arrow';
import type { AggregateQuery } from '../../../protocol/index.ts';
import type { Accumulator } from './accumulator.ts';
import { mapAccumulator, needsGroupRows } from './accumulators.ts';
import { tableOf } from './arrow-build.ts';
import { viewOf } from './column-view.ts';
import { KernelError } from './errors.ts';
import { GroupKeys } from './group-keys.ts';
import { GroupRows } from './group-rows.ts';
import { partitionOfHash } from './hash.ts';
import { emptyGlobalPartial, keyName, partialMetadata } from './partial-schema.ts';
import { bindQuery, rebind, type BoundQuery } from './query-binding.ts';
import { identity } from './rows.ts';

export interface MapPartial {
  partition: number;
  /** The partial states of the partition's groups (see partial-schema.ts). */
  table: Table;
  groups: number;
}

export interface MapAggregator {
  /** Filters and aggregates one batch; the batch is not kept. */
  add(batch: RecordBatch): { rowsMatched: number };
  /** One partial table per non-empty partition, in partition order. */
  finish(): MapPartial[];
}

interface Bound {
  query: BoundQuery;
  schema: Schema;
  keys: GroupKeys;
  accumulators: Accumulator[];
  /** Rows per group, counted once a batch for the accumulators that read them; null: none does. */
  rows: GroupRows | null;
}

class MapAggregation implements MapAggregator {
  private bound: Bound | null = null;
  private selection = new Int32Array(0);
  private groups = new Int32Array(0);

  constructor(
    private readonly query: AggregateQuery,
    private readonly partitions: number,
  ) {}

  private bind(schema: Schema): Bound {
    if (this.bound === null) {
      const query = bindQuery(this.query, schema);
      const keys = new GroupKeys(query.keySlots.map((slot) => query.columns[slot]!.info));
      const rows = new GroupRows();
      const accumulators = this.query.aggregates.map((agg, i) => {
        const slot = query.aggregateSlots[i]!;
        return mapAccumulator(agg, i, slot === null ? null : query.columns[slot]!.info, rows);
      });
      const counted = needsGroupRows(this.query.aggregates) ? rows : null;
      this.bound = { query, schema, keys, accumulators, rows: counted };
    } else if (this.bound.schema !== schema) {
      this.bound = { ...this.bound, query: rebind(this.bound.query, schema), schema };
    }
    return this.bound;
  }

  add(batch: RecordBatch): { rowsMatched: number } {
    const { query, keys, accumulators, rows: groupRows } = this.bind(batch.schema);
    const count = batch.numRows;
    if (count === 0) return { rowsMatched: 0 };
    const views = query.columns.map((column) =>
      viewOf(batch.data.children[column.index]!, column.info),
    );
    if (this.selection.length < count) {
      this.selection = new Int32Array(count);
      this.groups = new Int32Array(count);
    }
    let rows: Int32Array | null = null;
    let matched = count;
    if (query.filters.length > 0) {
      rows = this.selection;
      rows.set(identity(count).subarray(0, count));
      for (const filter of query.filters) {
        matched = filter.narrow(views[filter.slot]!, rows, matched);
        if (matched === 0) return { rowsMatched: 0 };
      }
    }
    keys.assign(
      query.keySlots.map((slot) => views[slot]!),
      rows,
      matched,
      this.groups,
    );
    if (groupRows) {
      groupRows.reserve(keys.size);
      groupRows.add(this.groups, matched);
    }
    accumulators.forEach((accumulator, i) => {
      const slot = query.aggregateSlots[i]!;
      accumulator.reserve(keys.size);
      accumulator.add(slot === null ? null : views[slot]!, rows, this.groups, matched);
    });
    return { rowsMatched: matched };
  }

  finish(): MapPartial[] {
    const bound = this.bound;
    if (bound === null) {
      // Nothing read: only a query without group-by has a group (the global one, over no rows).
      return this.query.groupBy.length > 0
        ? []
        : [{ partition: 0, table: emptyGlobalPartial(this.query), groups: 1 }];
    }
    const { keys, accumulators, query } = bound;
    const size = keys.size;
    bound.rows?.reserve(size);
    for (const accumulator of accumulators) accumulator.reserve(size);
    // Groups bucketed by partition (a counting sort keeps each partition's groups in first-seen order).
    const partitionOf = new Int32Array(size);
    const starts = new Int32Array(this.partitions + 1);
    for (let group = 0; group < size; group++) {
      const partition =
        query.keySlots.length === 0 ? 0 : partitionOfHash(keys.hashOf(group), this.partitions);
      partitionOf[group] = partition;
      starts[partition + 1]!++;
    }
    for (let p = 0; p < this.partitions; p++) starts[p + 1]! += starts[p]!;
    const order = new Int32Array(size);
    const fill = starts.slice(0, this.partitions);
    for (let group = 0; group < size; group++) order[fill[partitionOf[group]!]!++] = group;

    const out: MapPartial[] = [];
    for (let partition = 0; partition < this.partitions; partition++) {
      const groups = order.subarray(starts[partition]!, starts[partition + 1]!);
      // No groups at all still gives partition 0 an empty partial: it carries the result's
      // columns and types, so that a job nothing matched answers with them and zero rows.
      if (groups.length === 0 && (size > 0 || partition > 0)) continue;
      const keyData = keys.build(groups, groups.length);
      const fields = keyData.map((data, j) => new Field(keyName(j), data.type, true));
      const columns = [...keyData];
      for (const accumulator of accumulators) {
        for (const column of accumulator.partial(groups, groups.length)) {
          fields.push(column.field);
          columns.push(column.data);
        }
      }
      out.push({
        partition,
        table: tableOf(fields, columns, groups.length, partialMetadata()),
        groups: groups.length,
      });
    }
    return out;
  }
}

/** A map-side aggregator of `query` over `partitions` radix partitions (the schema is checked on the first batch). */
export function createMapAggregator(query: AggregateQuery, partitions: number): MapAggregator {
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new KernelError(`partitions must be a positive integer, not ${partitions}`);
  return new MapAggregation(query, partitions);
}
