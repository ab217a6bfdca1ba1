/** Input readers for aggregation: Parquet, Arrow IPC and CSV objects as Arrow record batches. */
export { readSplit } from './read-split.ts';
export type { ReadProgress, ReadSplitOptions } from './read-split.ts';
export { parquetRowGroups } from './parquet-row-groups.ts';
export type { RowGroupInfo } from './parquet-row-groups.ts';
export { rowGroupRange } from './row-group-range.ts';
export { ReaderError } from './errors.ts';
export type { ReaderErrorCode } from './errors.ts';
export { releaseReaderScratch } from './release-scratch.ts';
