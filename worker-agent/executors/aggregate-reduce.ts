/** Reduce and final steps of an aggregation: merge committed partials, finalize, write the output. */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import {
  MAX_INLINE_BYTES,
  objectUrl,
  signedUrls,
  type FinalResult,
  type ReduceResult,
} from '../../protocol/index.ts';
import type { Executor, FinalSpec, ReduceSpec } from '../task-outcome.ts';
import { finalizeResult, mergePartitions } from '../aggregate/kernels/index.ts';
import { getMany, type OpenStore } from '../storage/index.ts';
import { dataFailure } from './data-failure.ts';
import { ARROW_FILE } from './aggregate-map.ts';
import { InlineBudget, inlineBytes } from './inline-outputs.ts';

/**
 * A result of up to this many bytes may also travel back inline, when it deflates to
 * MAX_INLINE_BYTES: a larger one is not worth deflating only to find it does not fit.
 */
const FINAL_COPY_RAW_BYTES = 4 * MAX_INLINE_BYTES;

/** A copy of the result for the Scheduler to serve from memory, or null when too large. */
const inlineCopy = (bytes: Uint8Array) => new InlineBudget(MAX_INLINE_BYTES).take(bytes);

/**
 * Reads the step's inputs (objects, then inline ones) and turns them into one table with
 * `combine`. A reduce hands it back inline when `spec.inlineBytes` allows, else writes it to
 * `spec.outputKey`; the final step always writes it, and hands back a copy of a small one too.
 */
async function combineInputs(
  openStore: OpenStore,
  spec: ReduceSpec | FinalSpec,
  signal: AbortSignal,
  combine: (tables: Table[]) => Table,
): Promise<ReduceResult | FinalResult> {
  // The URLs are rebuilt from the spec's compact form (protocol/object-urls.ts).
  const get = signedUrls(spec.urls, spec.inputs);
  const store = openStore(spec.store, {
    get,
    put: new Map([[spec.outputKey, objectUrl(spec.urls, spec.outputKey, spec.outputSignature)]]),
  });
  try {
    const objects = await getMany(store, [...get.keys()], { signal });
    const inline = (spec.inline ?? []).map(inlineBytes);
    const table = combine([...objects, ...inline].map((bytes) => tableFromIPC(bytes)));
    const bytes = tableToIPC(table, 'file');
    if (spec.kind === 'aggregate-reduce') {
      const held = new InlineBudget(spec.inlineBytes ?? 0).take(bytes);
      if (held !== null) return { inline: held, groups: table.numRows };
    }
    await store.put(spec.outputKey, bytes, ARROW_FILE, { signal });
    const copy =
      spec.kind === 'aggregate-final' && bytes.byteLength <= FINAL_COPY_RAW_BYTES
        ? inlineCopy(bytes)
        : null;
    return { key: spec.outputKey, groups: table.numRows, ...(copy ? { inline: copy } : {}) };
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
