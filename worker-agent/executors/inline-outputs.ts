/**
 * Step outputs small enough to travel back in the task's result rather than through the store:
 * a small group-by then costs its maps no PUT and its reduces no GET per partial.
 */

/** Hands out a task's inline allowance (MapTaskSpec.inlineBytes) to outputs until it is spent. */
export class InlineBudget {
  constructor(private left: number) {}

  /** `bytes` as base64 when they fit what is left (taking that much), else null: write them to the store. */
  take(bytes: Uint8Array): string | null {
    if (bytes.byteLength > this.left) return null;
    this.left -= bytes.byteLength;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  }
}

/** The bytes of an inline output. */
export function inlineBytes(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, 'base64'));
}
