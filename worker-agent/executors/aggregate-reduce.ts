/** Reduce and final steps of an aggregation: merge committed partials, finalize, write the output. */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import type { ReduceResult } from '../../protocol/index.ts';
import type { Executor, FinalSpec, ReduceSpec } from '../task-outcome.ts';
import { finalizeResult, mergePartitions } from '../aggregate/kernels/index.ts';
import { getMany, type OpenStore } from '../storage/index.ts';
import { dataFailure } from './data-failure.ts';
import { ARROW_FILE } from './aggregate-map.ts';
import { InlineBudget, inlineBytes } from './inline-outputs.ts';

/**
 * Reads the step's inputs (objects, then inline ones), turns them into one table with `combine`,
 * and hands it back inline when `spec.inlineBytes` allows, else writes it to `spec.outputKey`.
 */
async function combineInputs(
  openStore: OpenStore,
  spec: ReduceSpec | FinalSpec,
  signal: AbortSignal,
  combine: (tables: Table[]) => Table,
): Promise<ReduceResult> {
  const store = openStore(spec.store);
  try {
    const objects = await getMany(store, spec.inputs, { signal });
    const inline = (spec.inline ?? []).map(inlineBytes);
    const table = combine([...objects, ...inline].map((bytes) => tableFromIPC(bytes)));
    const bytes = tableToIPC(table, 'file');
    const budget = spec.kind === 'aggregate-reduce' ? (spec.inlineBytes ?? 0) : 0;
    const held = new InlineBudget(budget).take(bytes);
    if (held !== null) return { inline: held, groups: table.numRows };
    await store.put(spec.outputKey, bytes, ARROW_FILE, { signal });
    return { key: spec.outputKey, groups: table.numRows };
  } finally {
    store.close();
  }
}

/** An executor that merges a step's inputs with `combine`; `what` names them in errors. */
function combineExecutor<S extends ReduceSpec | FinalSpec>(
  openStore: OpenStore,
  combine: (spec: S, tables: Table[]) => Table,
  what: (spec: S) => string,
): Executor<S> {
  return async ({ spec, signal, started }) => {
    started();
    try {
      const result = await combineInputs(openStore, spec, signal, (tables) =>
        combine(spec, tables),
      );
      return { ok: true, result };
    } catch (error) {
      return dataFailure(error, signal, what(spec));
    }
  };
}

export const reduceExecutor = (options: { openStore: OpenStore }) =>
  combineExecutor<ReduceSpec>(
    options.openStore,
    (spec, tables) => mergePartitions(spec.query, tables),
    (spec) => `partition ${spec.partition}`,
  );

export const finalExecutor = (options: { openStore: OpenStore }) =>
  combineExecutor<FinalSpec>(
    options.openStore,
    (spec, tables) =>
      finalizeResult(
        spec.partials ? [mergePartitions(spec.query, tables)] : tables,
        spec.orderBy,
        spec.limit,
      ),
    () => 'the result',
  );
