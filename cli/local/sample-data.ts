/** The demo's sample data set: a few million sales rows, written as Parquet files with parquet-wasm. */
import {
  DateDay,
  Dictionary,
  Int32,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import {
  Compression,
  Table as WasmTable,
  WriterPropertiesBuilder,
  writeParquet,
} from 'parquet-wasm/node';

export const REGIONS = [
  'north',
  'south',
  'east',
  'west',
  'central',
  'coast',
  'mountain',
  'islands',
];

/** A small deterministic PRNG (mulberry32), so every run writes the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Dictionary-encoded strings from indices into `values` (-1 for NULL): fast to build, small to store. */
function dictionary(values: string[], indices: Int32Array): Vector {
  const nulls = new Uint8Array(Math.ceil(indices.length / 8));
  let nullCount = 0;
  for (let i = 0; i < indices.length; i++) {
    if ((indices[i] ?? -1) >= 0) nulls[i >> 3] = (nulls[i >> 3] ?? 0) | (1 << (i & 7));
    else nullCount++;
  }
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionaryVector = vectorFromArray(values, new Utf8());
  return makeVector(
    makeData({
      type,
      length: indices.length,
      nullCount,
      nullBitmap: nulls,
      data: indices,
      dictionary: dictionaryVector,
    }),
  );
}

const PRODUCTS = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(4, '0')}`);

/** `count` rows of sales (seeded by `seed`): region (1% NULL), product, quantity, price, day. */
export function salesTable(seed: number, count: number): Table {
  const next = random(seed);
  const region = new Int32Array(count);
  const product = new Int32Array(count);
  const quantity = new Int32Array(count);
  const price = new Float64Array(count);
  const day = new Int32Array(count);
  const firstDay = Date.UTC(2026, 0, 1) / 86_400_000;
  for (let i = 0; i < count; i++) {
    region[i] = next() < 0.01 ? -1 : Math.floor(next() * REGIONS.length);
    product[i] = Math.floor(next() * PRODUCTS.length);
    quantity[i] = 1 + Math.floor(next() * 20);
    price[i] = Math.round(next() * 100_000) / 100;
    day[i] = firstDay + Math.floor(next() * 365);
  }
  return new Table({
    region: dictionary(REGIONS, region),
    product: dictionary(PRODUCTS, product),
    quantity: makeVector(quantity),
    price: makeVector(price),
    day: makeVector(makeData({ type: new DateDay(), length: count, data: day })),
  });
}

/** Encodes an Arrow table as a Parquet file (Snappy, row groups of `rowGroupSize`). */
export function toParquet(table: Table, rowGroupSize = 128 * 1024): Uint8Array {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setMaxRowGroupSize(rowGroupSize)
    .build();
  return writeParquet(wasmTable, properties);
}
