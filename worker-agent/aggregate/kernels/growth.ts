/** Geometric growth of typed arrays: group ids arrive one at a time, storage doubles. */

/** Twice the capacity, at least `needed`. */
export function grown(capacity: number, needed: number): number {
  let next = Math.max(capacity, 16);
  while (next < needed) next *= 2;
  return next;
}

type Growable = Float64Array | Int32Array | Uint8Array;

/** `array`, or a copy of it with room for at least `needed` elements. */
export function grow<T extends Growable>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const out = new (array.constructor as new (length: number) => T)(grown(array.length, needed));
  out.set(array);
  return out;
}
