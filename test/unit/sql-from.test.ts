/** FROM in SQL text: the format, the folder or object, and the registered store a URL means. */
import { describe, expect, it } from 'vitest';
import { sqlAggregation } from '../../src/sql/sql-query.ts';
import type { StoreLocation } from '../../src/sql/sql-store.ts';

const STORES: StoreLocation[] = [
  { name: 'test-bucket', bucket: 'test-bucket', prefix: '' },
  { name: 'results', bucket: 'test-bucket', prefix: 'results/' },
  { name: 'lake', bucket: 'datalake-prod', prefix: 'warehouse/' },
];
const source = (from: string, stores = STORES) =>
  sqlAggregation(`SELECT count(*) FROM ${from}`, stores).source;

describe('format and location', () => {
  it('reads a folder as Parquet unless a function says otherwise', () => {
    expect(source("'s3://test-bucket/sales/'")).toEqual({
      store: 'test-bucket',
      prefix: 'sales/',
      format: 'parquet',
    });
    expect(source("'s3://test-bucket/sales'")).toMatchObject({ prefix: 'sales/' });
    expect(source("read_csv('s3://test-bucket/sales/')")).toMatchObject({ format: 'csv' });
    expect(source("read_csv_auto('s3://test-bucket/sales/')")).toMatchObject({ format: 'csv' });
    expect(source("read_arrow('s3://test-bucket/sales/')")).toMatchObject({ format: 'arrow' });
  });

  it('takes the format of a last *.ext as the folder', () => {
    expect(source("'s3://test-bucket/sales/*.csv'")).toEqual({
      store: 'test-bucket',
      prefix: 'sales/',
      format: 'csv',
    });
    expect(source("read_parquet('s3://test-bucket/sales/*.parquet')")).toMatchObject({
      prefix: 'sales/',
      format: 'parquet',
    });
  });

  it('reads one object by its extension', () => {
    expect(source("'s3://test-bucket/sales/part-0.arrow'")).toEqual({
      store: 'test-bucket',
      paths: ['sales/part-0.arrow'],
      format: 'arrow',
    });
  });

  it('reads the whole store from its root', () => {
    expect(source("'s3://test-bucket'")).toEqual({ store: 'test-bucket', format: 'parquet' });
  });
});

describe('which store', () => {
  it('is the store over the bucket with the longest prefix that starts the path', () => {
    expect(source("'s3://test-bucket/results/q1/'")).toMatchObject({
      store: 'results',
      prefix: 'q1/',
    });
    expect(source("'s3://datalake-prod/warehouse/sales/x.parquet'")).toMatchObject({
      store: 'lake',
      paths: ['sales/x.parquet'],
    });
  });

  it('is the store of that name when no store is over that bucket', () => {
    expect(source("'s3://lake/sales/'")).toEqual({
      store: 'lake',
      prefix: 'sales/',
      format: 'parquet',
    });
  });

  it('is refused when none matches', () => {
    expect(() => source("'s3://datalake-prod/other/'")).toThrow(
      /FROM: no registered object store is over s3:\/\/datalake-prod\/other\//,
    );
    expect(() => source("'s3://nowhere/x/'")).toThrow(/register one with POST \/v1\/object-stores/);
  });
});
