/** A direct-mapped cache from code tuples to groups while the columns' code counts multiply to a small number. */
import type { TupleTable } from './tuple-table.ts';

/** The most cells kept (4 MB of group ids). */
const MAX_BITS = 20;

export class DirectTuples {
  /** Bits of the cell index given to each column's code. */
  private readonly bits: number[];
  /** The group of each tuple of codes (-1 until looked up); null once the codes need too many cells. */
  private cells: Int32Array | null = new Int32Array(0);

  constructor(private readonly table: TupleTable) {
    this.bits = new Array<number>(table.width).fill(0);
  }

  /** Makes room for codes below `sizes[j]` in column j; false when that needs too many cells (for good). */
  fit(sizes: readonly number[]): boolean {
    if (this.cells === null) return false;
    let grew = false;
    sizes.forEach((size, j) => {
      while (1 << this.bits[j]! < size) {
        this.bits[j]!++;
        grew = true;
      }
    });
    if (!grew && this.cells.length > 0) return true;
    const total = this.bits.reduce((sum, bits) => sum + bits, 0);
    if (total > MAX_BITS) {
      this.cells = null;
      return false;
    }
    const cells = new Int32Array(1 << total).fill(-1);
    const { tuples, width } = this.table;
    for (let group = 0; group < this.table.size; group++) {
      let cell = 0;
      for (let j = 0; j < width; j++) cell = (cell << this.bits[j]!) | tuples[group * width + j]!;
      cells[cell] = group;
    }
    this.cells = cells;
    return true;
  }

  /** `groups[k]` gets the group of tuple k (after a successful `fit`). */
  lookup(codes: readonly Int32Array[], count: number, groups: Int32Array): void {
    const cells = this.cells!;
    const table = this.table;
    if (codes.length === 2) {
      const [first, second] = codes as [Int32Array, Int32Array];
      const shift = this.bits[1]!;
      const one = (k: number) => {
        const cell = (first[k]! << shift) | second[k]!;
        const group = cells[cell]!;
        groups[k] = group >= 0 ? group : (cells[cell] = table.find(codes, k));
      };
      // Four rows an iteration (see "Hot loops" in README.md); a new tuple one row at a time.
      let k = 0;
      for (; k + 3 < count; k += 4) {
        const g0 = cells[(first[k]! << shift) | second[k]!]!;
        const g1 = cells[(first[k + 1]! << shift) | second[k + 1]!]!;
        const g2 = cells[(first[k + 2]! << shift) | second[k + 2]!]!;
        const g3 = cells[(first[k + 3]! << shift) | second[k + 3]!]!;
        if ((g0 | g1 | g2 | g3) >= 0) {
          groups[k] = g0;
          groups[k + 1] = g1;
          groups[k + 2] = g2;
          groups[k + 3] = g3;
        } else for (let j = k; j < k + 4; j++) one(j);
      }
      for (; k < count; k++) one(k);
      return;
    }
    for (let k = 0; k < count; k++) {
      let cell = 0;
      for (let j = 0; j < codes.length; j++) cell = (cell << this.bits[j]!) | codes[j]![k]!;
      let group = cells[cell]!;
      if (group < 0) group = cells[cell] = table.find(codes, k);
      groups[k] = group;
    }
  }
}
