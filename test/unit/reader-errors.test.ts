/** Readers fail clearly (a ReaderError naming key and format) on wrong, corrupt, truncated or empty objects, and on abort. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import type { InputFormat } from '../../protocol/aggregate.ts';
import {
  ReaderError,
  readSplit,
  type ReaderErrorCode,
} from '../../worker-agent/aggregate/readers/index.ts';
import { StorageError, type ObjectStore } from '../../worker-agent/storage/index.ts';
import { createDatasets, type Datasets } from '../support/datasets.ts';
import { closeTestStore, openTestStore, type TestS3 } from '../support/s3.ts';

let s3: TestS3;
let store: ObjectStore;
let data: Datasets;
const bytes: Partial<Record<InputFormat | 'arrow-stream', Uint8Array>> = {};

beforeAll(async () => {
  ({ s3, store } = await openTestStore());
  data = await createDatasets({ store, files: 2, rowsPerFile: 30_000, rowGroupSize: 4_096 });
  for (const file of data.files.filter(
    (f) => f.key.endsWith('part-0.' + f.format) || f.ipc === 'stream',
  )) {
    bytes[file.ipc === 'stream' ? 'arrow-stream' : file.format] = new Uint8Array(
      await readFile(file.path),
    );
  }
}, 120_000);
afterAll(async () => {
  await data?.cleanup();
  await closeTestStore({ s3, store });
});

async function readAll(
  key: string,
  format: InputFormat,
  signal?: AbortSignal,
  onBatch?: () => void,
): Promise<number> {
  let rows = 0;
  const options = { tempDir: s3.tempDir, batchRows: 4_096, ...(signal ? { signal } : {}) };
  for await (const batch of readSplit(store, { key, size: 0 }, format, options)) {
    rows += batch.numRows;
    onBatch?.();
  }
  return rows;
}

async function readerError(key: string, format: InputFormat): Promise<ReaderError> {
  const error = await readAll(key, format).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReaderError);
  return error as ReaderError;
}

async function expectFailure(
  key: string,
  format: InputFormat,
  content: Uint8Array,
  code: ReaderErrorCode,
) {
  await store.put(key, content);
  const error = await readerError(key, format);
  expect(error.code).toBe(code);
  expect(error.key).toBe(key);
  expect(error.message).toMatch(
    new RegExp(`^cannot read s3://test-bucket/${key.replace(/\./g, '\\.')} as ${format}: `),
  );
  expect(await readdir(s3.tempDir)).toEqual([]);
  return error;
}

const text = (value: string) => new TextEncoder().encode(value);

/** A copy with bytes [from, to) scrambled. */
function scramble(source: Uint8Array, from: number, to: number): Uint8Array {
  const out = Uint8Array.from(source);
  for (let i = from; i < to; i += 3) out[i] = (out[i]! * 31 + 7) & 0xff;
  return out;
}

describe('reader errors', { timeout: 60_000 }, () => {
  it('rejects objects in another format', async () => {
    await expectFailure('wrong/csv-as.parquet', 'parquet', bytes.csv!, 'format');
    await expectFailure('wrong/parquet-as.arrow', 'arrow', bytes.parquet!, 'format');
    await expectFailure('wrong/csv-as.arrow', 'arrow', bytes.csv!, 'format');
    await expectFailure(
      'wrong/garbage.arrow',
      'arrow',
      text('this is not Arrow data at all, just text\n'),
      'format',
    );
    await expectFailure('wrong/parquet-as.csv', 'csv', bytes.parquet!, 'format');
    await expectFailure('wrong/arrow-as.csv', 'csv', bytes.arrow!, 'format');
    const noise = new Uint8Array(10_000).map((_, i) => (i * 7919 + 13) % 251);
    for (const format of ['parquet', 'arrow', 'csv'] as const)
      await expectFailure(`wrong/noise.${format}`, format, noise, 'format');
  });

  it('rejects truncated objects', async () => {
    const half = (b: Uint8Array) => b.subarray(0, Math.floor(b.length / 2));
    await expectFailure('cut/half.parquet', 'parquet', half(bytes.parquet!), 'format');
    await expectFailure('cut/half.arrow', 'arrow', half(bytes.arrow!), 'format');
    await expectFailure('cut/half-stream.arrow', 'arrow', half(bytes['arrow-stream']!), 'format');
    // Cut inside a quoted field: the quote never closes.
    const csv = new TextDecoder().decode(bytes.csv!);
    const open = csv.indexOf('"say ""hi""');
    await expectFailure('cut/open-quote.csv', 'csv', text(csv.slice(0, open + 5)), 'format');
  });

  it('rejects corrupt Parquet without taking the process down, and keeps working afterwards', async () => {
    const parquet = bytes.parquet!;
    const footer = new DataView(parquet.buffer, parquet.byteOffset).getInt32(
      parquet.length - 8,
      true,
    );
    const error = await expectFailure(
      'corrupt/pages.parquet',
      'parquet',
      scramble(parquet, 1_000, parquet.length - 8 - footer),
      'format',
    );
    expect(error.message).toMatch(/corrupt/);
    await expectFailure(
      'corrupt/footer.parquet',
      'parquet',
      scramble(parquet, parquet.length - 8 - footer, parquet.length - 8),
      'format',
    );
    await expectFailure(
      'corrupt/zeros.parquet',
      'parquet',
      Uint8Array.from(parquet).fill(0, 4, parquet.length - 8 - footer),
      'format',
    );
    const good = data.files.find((f) => f.format === 'parquet')!;
    expect(await readAll(good.key, 'parquet')).toBe(good.rows);
  });

  it('rejects corrupt Arrow IPC', async () => {
    const arrow = bytes['arrow-stream']!;
    await expectFailure('corrupt/stream.arrow', 'arrow', scramble(arrow, 0, 64), 'format');
  });

  it('says empty for an empty object in every format', async () => {
    for (const format of ['parquet', 'arrow', 'csv'] as const) {
      const error = await expectFailure(
        `empty/nothing.${format}`,
        format,
        new Uint8Array(0),
        'empty',
      );
      expect(error.message).toContain('empty');
    }
  });

  it('passes not_found through as a StorageError', async () => {
    for (const format of ['parquet', 'arrow', 'csv'] as const) {
      const error = await readAll(`missing/none.${format}`, format).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('not_found');
    }
  });

  it('stops on abort, mid-read or before it starts, and removes the temp file', async () => {
    for (const file of data.files.filter((f) => f.key.includes('part-1'))) {
      const controller = new AbortController();
      let batches = 0;
      const error = await readAll(file.key, file.format, controller.signal, () => {
        batches++;
        controller.abort();
      }).catch((e: unknown) => e);
      expect(batches).toBe(1);
      expect(error).toBeInstanceOf(ReaderError);
      expect((error as ReaderError).code).toBe('aborted');
      expect(await readdir(s3.tempDir)).toEqual([]);

      const early = await readAll(file.key, file.format, AbortSignal.abort()).catch(
        (e: unknown) => e,
      );
      expect((early as ReaderError).code).toBe('aborted');
      expect(await readdir(s3.tempDir)).toEqual([]);
    }
  });
});
