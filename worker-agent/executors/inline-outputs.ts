/**
 * Step outputs small enough to travel back in the task's result rather than through the store:
 * a small group-by then costs its maps no PUT and its reduces no GET per partial. They travel
 * deflated (partials of a few thousand groups shrink about threefold), then base64.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Hands out a task's inline allowance (MapTaskSpec.inlineBytes) to outputs until it is spent. */
export class InlineBudget {
  constructor(private left: number) {}

  /** `bytes`, deflated, as base64 when they fit what is left (taking that much), else null: write them to the store. */
  take(bytes: Uint8Array): string | null {
    if (this.left <= 0) return null;
    const deflated = deflateRawSync(bytes, { level: 1 });
    if (deflated.byteLength > this.left) return null;
    this.left -= deflated.byteLength;
    return deflated.toString('base64');
  }
}

/** The bytes of an inline output. */
export function inlineBytes(base64: string): Uint8Array {
  return new Uint8Array(inflateRawSync(Buffer.from(base64, 'base64')));
}
