/** Gives back what the readers keep between reads, so a reused thread does not hold one task's peak. */
import { releasePageScratch } from './parquet/pages.ts';
import { releaseKernels } from './parquet/wasm-kernel.ts';

/**
 * Drops the Parquet reader's scratch arrays and the WebAssembly instances whose memory grew large
 * (their next use starts afresh). Called after every map task: the next task regrows what it
 * needs, one allocation per array, not one per page.
 */
export function releaseReaderScratch(): void {
  releasePageScratch();
  releaseKernels();
}
