/** Schemas of distributed group-by aggregation: the query, and the map and reduce task specs. */
import { z } from 'zod';
import { FaultPolicyFields } from './policy.ts';
import { RetentionFields } from './retention.ts';
import { Signature, SignedObjects, signedObjects, UrlScope } from './object-urls.ts';

export const ColumnName = z.string().min(1).max(256);
export const InputFormat = z.enum(['parquet', 'arrow', 'csv']);
export type InputFormat = z.infer<typeof InputFormat>;

export const AggregateOp = z.enum(['count', 'sum', 'min', 'max', 'avg', 'count_distinct']);
export type AggregateOp = z.infer<typeof AggregateOp>;
export const FilterOp = z.enum(['=', '!=', '<', '<=', '>', '>=', 'in', 'is null', 'is not null']);
export type FilterOp = z.infer<typeof FilterOp>;

const Scalar = z.union([z.string().max(4096), z.number(), z.boolean()]);

export const Filter = z
  .strictObject({
    column: ColumnName,
    op: FilterOp,
    value: z.union([Scalar, z.array(Scalar).min(1).max(10_000)]).optional(),
  })
  .superRefine((filter, ctx) => {
    const needsNone = filter.op === 'is null' || filter.op === 'is not null';
    const isList = Array.isArray(filter.value);
    if (needsNone && filter.value !== undefined)
      ctx.addIssue({ code: 'custom', message: `"${filter.op}" takes no value` });
    else if (!needsNone && filter.value === undefined)
      ctx.addIssue({ code: 'custom', message: `"${filter.op}" needs a value` });
    else if (filter.op === 'in' && !isList)
      ctx.addIssue({ code: 'custom', message: '"in" needs a list of values' });
    else if (filter.op !== 'in' && isList)
      ctx.addIssue({ code: 'custom', message: `"${filter.op}" takes one value, not a list` });
  });
export type Filter = z.infer<typeof Filter>;

export const AggregateExpr = z
  .strictObject({ op: AggregateOp, column: ColumnName.optional(), as: ColumnName.optional() })
  .refine((agg) => agg.op === 'count' || agg.column !== undefined, {
    message: 'only count may omit its column',
  });
export type AggregateExpr = z.infer<typeof AggregateExpr>;

/** The output column name of an aggregate: its `as`, else `op(column)` (`count(*)` for count). */
export const aggregateName = (agg: AggregateExpr) => agg.as ?? `${agg.op}(${agg.column ?? '*'})`;

/** The part of an aggregation every map and reduce task needs. */
export const AggregateQuery = z.strictObject({
  filter: z.array(Filter).max(64),
  groupBy: z.array(ColumnName).max(16),
  aggregates: z.array(AggregateExpr).min(1).max(64),
});
export type AggregateQuery = z.infer<typeof AggregateQuery>;

export const OrderBy = z.strictObject({ column: ColumnName, desc: z.boolean().optional() });
export type OrderBy = z.infer<typeof OrderBy>;

/**
 * The result's columns (group-by columns, then aggregates) must have distinct names, and orderBy
 * may only name them: checked at submit, not after every map has run.
 */
function checkResultColumns(
  job: {
    groupBy?: string[] | undefined;
    aggregates: AggregateExpr[];
    orderBy?: OrderBy[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const names = new Set<string>();
  for (const name of [...(job.groupBy ?? []), ...job.aggregates.map(aggregateName)]) {
    if (names.has(name))
      ctx.addIssue({
        code: 'custom',
        path: ['aggregates'],
        message: `the result would have two columns named "${name}": group-by columns and aggregate output names must be distinct (use "as")`,
      });
    names.add(name);
  }
  const known = [...names].map((name) => `"${name}"`).join(', ');
  for (const [index, order] of (job.orderBy ?? []).entries())
    if (!names.has(order.column))
      ctx.addIssue({
        code: 'custom',
        path: ['orderBy', index, 'column'],
        message: `orderBy column "${order.column}" is not a column of the result (${known})`,
      });
}

/** What an aggregation reads and computes: an aggregate job's fields, and an aggregate stage's. */
export const AGGREGATE_FIELDS = {
  source: z.strictObject({
    store: z.string().min(1).max(64),
    prefix: z.string().max(1024).optional(),
    paths: z.array(z.string().min(1).max(1024)).min(1).max(10_000).optional(),
    format: InputFormat,
  }),
  filter: z.array(Filter).max(64).optional(),
  groupBy: z.array(ColumnName).max(16).optional(),
  aggregates: z.array(AggregateExpr).min(1).max(64),
  orderBy: z.array(OrderBy).max(16).optional(),
  limit: z.number().int().min(1).max(1_000_000).optional(),
  /** Reduce partitions (default: 1 without groupBy, else 2 per ready worker, at most 64). */
  partitions: z.number().int().min(1).max(256).optional(),
  output: z
    .strictObject({ store: z.string().min(1).max(64), prefix: z.string().max(1024) })
    .optional(),
  /**
   * Small partials and reduce outputs travel back through the Scheduler rather than the
   * output store (default true); false writes every intermediate to the store.
   */
  inlineIntermediates: z.boolean().optional(),
};

/** Checks an aggregation's fields together: one kind of source, and its result's columns. */
export function checkAggregation(
  job: {
    source: { prefix?: string | undefined; paths?: string[] | undefined };
    groupBy?: string[] | undefined;
    aggregates: AggregateExpr[];
    orderBy?: OrderBy[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (job.source.prefix !== undefined && job.source.paths !== undefined)
    ctx.addIssue({ code: 'custom', message: 'give source.prefix or source.paths, not both' });
  checkResultColumns(job, ctx);
}

export const AggregateJobRequest = z
  .strictObject({
    kind: z.literal('aggregate'),
    name: z.string().min(1).max(200).optional(),
    ...AGGREGATE_FIELDS,
    ...FaultPolicyFields,
    ...RetentionFields,
  })
  .superRefine(checkAggregation);
export type AggregateJobRequest = z.infer<typeof AggregateJobRequest>;

/** One input split: a whole object, or part `index` of `of` of a Parquet file's row groups. */
export const InputSplit = z.strictObject({
  key: z.string(),
  size: z.number().int().min(0),
  part: z.strictObject({ index: z.number().int().min(0), of: z.number().int().min(1) }).optional(),
  /** The version planned on: an agent reads only this version, and may serve it from its cache. */
  etag: z.string().optional(),
});
export type InputSplit = z.infer<typeof InputSplit>;

/** Most bytes one task may hand back inline (deflated Arrow IPC, base64 in its result), all outputs together. */
export const MAX_INLINE_BYTES = 512 * 1024;
const InlineBytes = z.number().int().min(0).max(MAX_INLINE_BYTES);
/** Partials or reduce outputs handed back inline: deflated Arrow IPC files, base64. */
const InlineOutputs = (most: number) => z.array(z.string()).max(most);

/** A store as a task sees it: where it is (for messages and cache names), never its keys. */
export const TaskStore = z.strictObject({ bucket: z.string(), endpoint: z.string().optional() });
export type TaskStore = z.infer<typeof TaskStore>;

/**
 * A presigned URL (SigV4 query auth) for one method on one object, expiring with the task's
 * attempt; a store without credentials gets the object's plain URL.
 */
export const ObjectUrl = z
  .string()
  .max(8192)
  .regex(/^https?:\/\//, 'expected an http(s) URL');

export const MapTaskSpec = z.strictObject({
  kind: z.literal('aggregate-map'),
  query: AggregateQuery,
  format: InputFormat,
  source: TaskStore,
  input: InputSplit,
  /** GET of the input object. */
  inputUrl: ObjectUrl,
  partitions: z.number().int().min(1),
  /** Where this attempt writes `part-<p>.arrow`: an attempt-keyed prefix in the output store. */
  output: TaskStore,
  outputPrefix: z.string(),
  /** PUT of `part-<p>.arrow`, index p. */
  outputUrls: z.array(ObjectUrl).max(256),
  /** Partials up to this many bytes in all come back in the result instead (absent: none). */
  inlineBytes: InlineBytes.optional(),
});
export type MapTaskSpec = z.infer<typeof MapTaskSpec>;

export const ReduceTaskSpec = z.strictObject({
  kind: z.literal('aggregate-reduce'),
  query: AggregateQuery,
  partition: z.number().int().min(0),
  store: TaskStore,
  /** What the step's URLs share (protocol/object-urls.ts): each is rebuilt with `objectUrl`. */
  urls: UrlScope,
  /** The committed map attempts' partials for this partition, with their GET signatures. */
  inputs: SignedObjects,
  /** The partials those attempts handed back inline. */
  inline: InlineOutputs(100_000).optional(),
  outputKey: z.string(),
  /** The PUT signature of `outputKey` (absent for plain URLs). */
  outputSignature: Signature.optional(),
  /** An output up to this many bytes comes back in the result instead (absent: never). */
  inlineBytes: InlineBytes.optional(),
});
export type ReduceTaskSpec = z.infer<typeof ReduceTaskSpec>;

/** The last step: concatenate the reduce outputs, order and limit, write the job's result. */
export const FinalTaskSpec = z.strictObject({
  kind: z.literal('aggregate-final'),
  query: AggregateQuery,
  orderBy: z.array(OrderBy).max(16).optional(),
  limit: z.number().int().min(1).optional(),
  store: TaskStore,
  /** What the step's URLs share (protocol/object-urls.ts). */
  urls: UrlScope,
  /** The reduce outputs (or the maps' partials, with `partials`), with their GET signatures. */
  inputs: signedObjects(1024),
  /** The reduce outputs handed back inline (the maps' partials, with `partials`). */
  inline: InlineOutputs(100_000).optional(),
  /**
   * The inputs are every map's partials, not reduce outputs: all of them came back inline, so the
   * reduce step was skipped and this one merges them first.
   */
  partials: z.literal(true).optional(),
  outputKey: z.string(),
  /** The PUT signature of `outputKey` (absent for plain URLs). */
  outputSignature: Signature.optional(),
});
export type FinalTaskSpec = z.infer<typeof FinalTaskSpec>;

/** Where a step put an output: an object of the output store, or its bytes inline (deflated, base64). */
const OutputPlace = { key: z.string().optional(), inline: z.string().optional() };
const placedOnce = (output: { key?: string | undefined; inline?: string | undefined }) =>
  (output.key === undefined) !== (output.inline === undefined);
const placedOnceError = { message: 'an output has either a key or inline bytes' };

/** A map task's result: what it read and which partitions it wrote. */
export const MapResult = z.object({
  rowsRead: z.number(),
  rowsMatched: z.number(),
  bytesRead: z.number(),
  /** Of `bytesRead`, what the agent's cache served instead of the store. */
  bytesCached: z.number().default(0),
  partitions: z.array(
    z
      .object({ index: z.number().int(), groups: z.number().int(), ...OutputPlace })
      .refine(placedOnce, placedOnceError),
  ),
});
export type MapResult = z.infer<typeof MapResult>;

export const ReduceResult = z
  .object({ groups: z.number().int(), ...OutputPlace })
  .refine(placedOnce, placedOnceError);
/**
 * The job's result always goes to the store; a small one also comes back inline (deflated Arrow
 * IPC, base64), so that the Scheduler serves `GET /v1/jobs/:id/result` without reading it back.
 */
export const FinalResult = z.object({
  key: z.string(),
  groups: z.number().int(),
  inline: z.string().optional(),
});
export type FinalResult = z.infer<typeof FinalResult>;

/** How far an aggregation has come, in the job view while it runs. */
export const AggregateProgress = z.object({
  phase: z.enum(['map', 'reduce', 'final', 'done']),
  rowsRead: z.number(),
  bytesRead: z.number(),
  /** Of `bytesRead`, what agents served from their caches (locality at work). */
  bytesCached: z.number(),
  tasksDone: z.number().int(),
  tasksTotal: z.number().int(),
});
export type AggregateProgress = z.infer<typeof AggregateProgress>;
export type ReduceResult = z.infer<typeof ReduceResult>;

/** A page of an aggregation's result as JSON: int64 beyond 2^53 as strings, dates as ISO strings. */
export const ResultPage = z.object({
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.record(z.string(), z.unknown())),
  total: z.number().int(),
  offset: z.number().int(),
  next: z.number().int().nullable(),
});
export type ResultPage = z.infer<typeof ResultPage>;

export const ResultQuery = z.strictObject({
  format: z.enum(['json', 'arrow']).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});
