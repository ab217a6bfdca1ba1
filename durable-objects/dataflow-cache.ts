/**
 * Dataflow specs, parsed, with their graphs, by job id: a job's spec never changes once stored, and
 * a thousand-stage spec is too large to parse again at every task's end. Bounded; job ids are the
 * Scheduler's own (UUIDv7), so no submission can pick another job's entry.
 */
import { parseJsonColumn } from './db/json-column.ts';
import { DataflowJobSpec, stageGraph, type StageGraph } from './dataflow-spec.ts';

export interface ParsedDataflow {
  spec: DataflowJobSpec;
  graph: StageGraph;
}

const MAX_ENTRIES = 64;
const parsed = new Map<string, ParsedDataflow>();

export function dataflowOf(jobId: string, specJson: string): ParsedDataflow {
  const hit = parsed.get(jobId);
  if (hit) return hit;
  const spec = parseJsonColumn(DataflowJobSpec, specJson, 'jobs.spec');
  const entry = { spec, graph: stageGraph(spec) };
  if (parsed.size >= MAX_ENTRIES) parsed.delete(parsed.keys().next().value ?? '');
  parsed.set(jobId, entry);
  return entry;
}
