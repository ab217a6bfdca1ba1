import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Labels, NameList, parseJsonColumn } from '../../durable-objects/db/json-column.ts';
import { AggregateTaskPart } from '../../durable-objects/aggregate-store.ts';

describe('parseJsonColumn', () => {
  it('gives back what fits the schema', () => {
    expect(parseJsonColumn(NameList, '["ocr","gpu"]', 'workers.executors')).toEqual(['ocr', 'gpu']);
    expect(parseJsonColumn(Labels, '{"zone":"a"}', 'workers.labels')).toEqual({ zone: 'a' });
    expect(
      parseJsonColumn(AggregateTaskPart, '{"step":"final","inputs":["k"]}', 'tasks.spec'),
    ).toEqual({ step: 'final', inputs: ['k'] });
  });

  it('names the column when the text is not JSON', () => {
    expect(() => parseJsonColumn(NameList, '["ocr"', 'workers.executors')).toThrow(
      'workers.executors holds text that is not JSON',
    );
  });

  it('names the column and the problem when the shape is wrong, instead of letting it through', () => {
    expect(() => parseJsonColumn(NameList, '{"ocr":1}', 'workers.executors')).toThrow(
      /^workers\.executors does not fit its schema/,
    );
    expect(() => parseJsonColumn(AggregateTaskPart, '{"step":"sort"}', 'tasks.spec')).toThrow(
      /tasks\.spec does not fit its schema/,
    );
    expect(() => parseJsonColumn(z.object({ n: z.number() }), 'null', 'x.y')).toThrow(/x\.y/);
  });
});
