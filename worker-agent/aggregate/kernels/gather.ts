/** Takes rows of a table by index into a new one-batch table (for sorted and limited results). */
import {
  Data,
  DataType,
  RecordBatch,
  Struct,
  Table,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { boolData, fixedData, nullData, stringData } from './arrow-build.ts';
import type { NumArray } from './column-view.ts';

type Values = NumArray | BigInt64Array | BigUint64Array;

/** The chunk and the row within it of each global row index. */
function locate(
  vector: Vector,
  indices: readonly number[],
): { chunk: Int32Array; local: Int32Array } {
  const starts = [0];
  for (const data of vector.data) starts.push(starts[starts.length - 1]! + data.length);
  const chunk = new Int32Array(indices.length);
  const local = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    let lo = 0;
    let hi = vector.data.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    chunk[i] = lo;
    local[i] = row - starts[lo]!;
  });
  return { chunk, local };
}

function gatherColumn(vector: Vector, indices: readonly number[]): Data {
  const type = vector.type as DataType;
  const length = indices.length;
  if (DataType.isNull(type)) return nullData(type, length);
  const { chunk, local } = locate(vector, indices);
  const chunks = vector.data;
  const valid = new Uint8Array(length);
  for (let i = 0; i < length; i++) valid[i] = chunks[chunk[i]!]!.getValid(local[i]!) ? 1 : 0;
  if (DataType.isBool(type)) {
    const values = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const data = chunks[chunk[i]!]!;
      const bit = data.offset + local[i]!;
      values[i] = ((data.values as Uint8Array)[bit >> 3]! >> (bit & 7)) & 1;
    }
    return boolData(type, values, length, valid);
  }
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) {
    const parts: Uint8Array[] = [];
    const offsets = new Int32Array(length + 1);
    for (let i = 0; i < length; i++) {
      const data = chunks[chunk[i]!]!;
      const at = data.valueOffsets as Int32Array | BigInt64Array;
      const start = Number(at[local[i]!]!);
      const end = Number(at[local[i]! + 1]!);
      parts.push((data.values as Uint8Array).subarray(start, end));
      offsets[i + 1] = offsets[i]! + end - start;
    }
    const bytes = new Uint8Array(offsets[length]!);
    parts.forEach((part, i) => bytes.set(part, offsets[i]!));
    return stringData(type, offsets, bytes, length, valid);
  }
  const sample = chunks[0]?.values as Values | undefined;
  if (
    sample !== undefined &&
    ArrayBuffer.isView(sample) &&
    chunks.every((data) => data.children.length === 0)
  ) {
    const stride = chunks[0]!.stride;
    const out = new (sample.constructor as new (length: number) => Values)(length * stride);
    for (let i = 0; i < length; i++) {
      const values = chunks[chunk[i]!]!.values as Values;
      for (let s = 0; s < stride; s++) out[i * stride + s] = values[local[i]! * stride + s]!;
    }
    return fixedData(type, out, length, valid);
  }
  return vectorFromArray(
    indices.map((row) => vector.get(row) as unknown),
    type,
  ).data[0]!;
}

export function gatherRows(table: Table, indices: readonly number[]): Table {
  const columns = table.schema.fields.map((_, i) => gatherColumn(table.getChildAt(i)!, indices));
  const struct = new Data(
    new Struct(table.schema.fields),
    0,
    indices.length,
    0,
    undefined,
    columns,
  );
  return new Table([new RecordBatch(table.schema, struct)]);
}
