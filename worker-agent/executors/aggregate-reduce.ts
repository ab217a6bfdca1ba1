/** Reduce and final steps of an aggregation: merge committed partials, finalize, write the output. */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import type { ReduceResult } from '../../protocol/index.ts';
import type { Executor, FinalSpec, ReduceSpec } from '../task-outcome.ts';
import { finalizeResult, mergePartitions } from '../aggregate/kernels/index.ts';
import { getMany, type ObjectStore, type OpenStore } from '../storage/index.ts';
import { dataFailure } from './data-failure.ts';
import { ARROW_FILE } from './aggregate-map.ts';

/** Reads `inputs`, turns them into one table with `combine`, writes it to `outputKey`; closes `store`. */
async function combineObjects(
  store: ObjectStore,
  inputs: readonly string[],
  outputKey: string,
  signal: AbortSignal,
  combine: (tables: Table[]) => Table,
): Promise<ReduceResult> {
  try {
    const objects = await getMany(store, inputs, { signal });
    const table = combine(objects.map((bytes) => tableFromIPC(bytes)));
    await store.put(outputKey, tableToIPC(table, 'file'), ARROW_FILE, { signal });
    return { key: outputKey, groups: table.numRows };
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
      const result = await combineObjects(
        openStore(spec.store),
        spec.inputs,
        spec.outputKey,
        signal,
        (tables) => combine(spec, tables),
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
    (spec, tables) => finalizeResult(tables, spec.orderBy, spec.limit),
    () => 'the result',
  );
