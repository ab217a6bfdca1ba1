/** Aggregation kernels: map-side partial aggregation, reduce-side merge and finalize, and the final ordering. */
export { createMapAggregator } from './map-aggregator.ts';
export type { MapAggregator, MapPartial } from './map-aggregator.ts';
export { mergePartitions } from './merge-partitions.ts';
export { finalizeResult } from './finalize-result.ts';
export { partitionOf, hashKey } from './partition.ts';
export type { KeyScalar } from './partition.ts';
export { KernelError } from './errors.ts';
export { partialColumnNames } from './partial-schema.ts';
