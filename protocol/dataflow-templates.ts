/**
 * Upstream results as template values in a dataflow stage's argv: `{{split}}` is every instance's
 * result of upstream stage `split`, one per line, and `{{split.2}}` instance 2's. Only argv
 * commands take them, and never in the program word: nothing runs a shell over the words, so a
 * value is always exactly one argument's text. In a shell line, `$TM_INPUT_split` is the way.
 * A pipeline stage's data values take them too: a value is one variable's text, which the
 * pipeline's own template puts into one argument. Pure, shared by the submit check and the
 * Scheduler's rendering.
 */

import { OUTPUTS_TEMPLATE } from './dataflow-graph.ts';

const TEMPLATE = /\{\{([A-Za-z_][A-Za-z0-9_]*)(?:\.(\d+))?\}\}/g;

export interface TemplateStage {
  name: string;
  kind?: string;
  command?: string | readonly string[];
  dependsOn?: readonly string[] | undefined;
  data?: unknown;
  outputs?: readonly string[] | undefined;
}

type Inputs = Readonly<Record<string, readonly (string | null)[]>>;

export interface TemplateIssue {
  path: (string | number)[];
  message: string;
}

/** Templates that name no upstream, choose the program, or stand in a shell line. */
export function templateIssues(stages: readonly TemplateStage[]): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  stages.forEach((stage, s) => {
    const upstreams = new Set(stage.dependsOn ?? []);
    issues.push(...dataIssues(stage, s, upstreams));
    const command = stage.command;
    if (typeof command === 'string') {
      const used = namesIn(command).find((name) => upstreams.has(name));
      if (used)
        issues.push({
          path: ['stages', s, 'command'],
          message: `stage "${stage.name}": {{${used}}} is not expanded in a shell line; use "$TM_INPUT_${used}", or give the command as an argv array`,
        });
      return;
    }
    (command ?? []).forEach((word, w) => {
      for (const name of namesIn(word)) {
        const path = ['stages', s, 'command', w];
        if (w === 0)
          issues.push({
            path,
            message: `stage "${stage.name}": the program (argv[0]) uses {{${name}}}; task data must never choose what runs`,
          });
        else if (name === OUTPUTS_TEMPLATE && !stage.outputs?.length)
          issues.push({
            path,
            message: `stage "${stage.name}": {{${name}}} is the outputs folder of a stage that declares outputs, and this one declares none`,
          });
        else if (!upstreams.has(name) && name !== OUTPUTS_TEMPLATE)
          issues.push({
            path,
            message: `stage "${stage.name}": {{${name}}} names no stage it depends on`,
          });
      }
    });
  });
  return issues;
}

/** A pipeline stage's data values may name only stages it depends on. */
function dataIssues(stage: TemplateStage, s: number, upstreams: Set<string>): TemplateIssue[] {
  const items = Array.isArray(stage.data) ? stage.data : stage.data ? [stage.data] : [];
  const list = Array.isArray(stage.data);
  return items.flatMap((item: unknown, i) =>
    Object.entries(item as Record<string, unknown>).flatMap(([variable, value]) =>
      namesIn(String(value))
        .filter((name) => !upstreams.has(name))
        .map((name) => ({
          path: ['stages', s, 'data', ...(list ? [i] : []), variable],
          message: `stage "${stage.name}": {{${name}}} names no stage it depends on`,
        })),
    ),
  );
}

/** A word or value with each template replaced by its upstream's results (absent ones: empty). */
export function renderTemplates(text: string, inputs: Inputs): string {
  return text.replace(TEMPLATE, (whole, name: string, instance: string | undefined) => {
    const results = inputs[name];
    if (!results) return whole;
    if (instance !== undefined) return trimEnd(results[Number(instance)] ?? '');
    return results.map((result) => trimEnd(result ?? '')).join('\n');
  });
}

/** The argv with each template rendered, but the program word as it is. */
export function renderArgv(argv: readonly string[], inputs: Inputs): string[] {
  return argv.map((word, w) => (w === 0 ? word : renderTemplates(word, inputs)));
}

const trimEnd = (text: string) => text.replace(/\n$/, '');

function namesIn(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((match) => match[1]!);
}
