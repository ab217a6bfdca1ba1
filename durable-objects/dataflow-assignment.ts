/** What each task of a dataflow job runs, built once per stage in a dispatch round. */
import type { TaskSpec } from '../protocol/index.ts';
import type { Sql } from './db/sql.ts';
import { parseJsonColumn } from './db/json-column.ts';
import {
  stageInputs,
  stageTaskSpec,
  StageTaskPart,
  type DataflowJobSpec,
  type StageInputs,
} from './dataflow-spec.ts';

/** A builder for one dispatch round: each stage's upstream results are read once. */
export function stageSpecBuilder(sql: Sql) {
  const inputs = new Map<string, StageInputs>();
  return (jobId: string, spec: DataflowJobSpec, taskSpec: string | null): TaskSpec | null => {
    if (taskSpec === null) return null;
    const part = parseJsonColumn(StageTaskPart, taskSpec, 'tasks.spec');
    const key = `${jobId}/${part.stage}`;
    let found = inputs.get(key);
    if (!found) {
      found = stageInputs(sql, jobId, spec, part.stage);
      inputs.set(key, found);
    }
    return stageTaskSpec(spec, part, found);
  };
}
