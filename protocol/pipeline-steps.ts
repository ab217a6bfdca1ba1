/**
 * Pure rules of pipeline steps, shared by the Scheduler (checked when a pipeline is defined and when
 * a task is submitted) and the agent (which renders the commands): templates that parse, programs
 * that task data never chooses, the data a task must give, and the executors a task needs.
 */
import { parseCommandTemplate, templateVariables, type TemplateWord } from './template.ts';

/** Set by the agent for every task: its scratch directory, shared by its steps, and its id. */
export const BUILTIN_VARIABLES = ['workdir', 'task_id'] as const;
export const isBuiltinVariable = (name: string): boolean =>
  (BUILTIN_VARIABLES as readonly string[]).includes(name);

export interface StepShape {
  name?: string | undefined;
  executor: string;
  commands: readonly string[];
}

export interface StepIssue {
  path: (string | number)[];
  message: string;
}

/** A step is named by its `name`, else by its executor. */
export const stepName = (step: StepShape): string => step.name ?? step.executor;

const where = (steps: readonly StepShape[], step: number, command: number) =>
  `step ${step + 1} "${stepName(steps[step] ?? { executor: '?', commands: [] })}", command ${command + 1}`;

/**
 * What is wrong with a definition's steps: commands that do not parse, a program word made of task
 * data, step names used twice, a `result` that names no step. Empty when all is well.
 */
export function stepIssues(steps: readonly StepShape[], result?: string): StepIssue[] {
  const issues: StepIssue[] = [];
  steps.forEach((step, s) =>
    step.commands.forEach((command, c) => {
      const parsed = parseCommandTemplate(command);
      const path = ['pipeline', s, 'commands', c];
      if (!parsed.ok) issues.push({ path, message: `${where(steps, s, c)}: ${parsed.message}` });
      else {
        const chosen = templateVariables(parsed.words.slice(0, 1)).filter(
          (name) => !isBuiltinVariable(name),
        );
        if (chosen.length > 0) {
          const message = `${where(steps, s, c)}: the program (first word) uses {{${chosen[0]}}}; task data must never choose what runs`;
          issues.push({ path, message });
        }
      }
    }),
  );
  const seen = new Set<string>();
  steps.forEach((step, s) => {
    const name = stepName(step);
    if (seen.has(name)) {
      issues.push({
        path: ['pipeline', s, 'name'],
        message: `step ${s + 1}: another step is already named "${name}"; give steps that share an executor a "name" each`,
      });
    }
    seen.add(name);
  });
  if (result !== undefined && !seen.has(result)) {
    issues.push({ path: ['result'], message: `"result" names no step: ${JSON.stringify(result)}` });
  }
  return issues;
}

/** The parsed words of every command, by step; throws on a template stepIssues would refuse. */
function parsedSteps(steps: readonly StepShape[]): TemplateWord[][][] {
  return steps.map((step, s) =>
    step.commands.map((command, c) => {
      const parsed = parseCommandTemplate(command);
      if (!parsed.ok) throw new Error(`${where(steps, s, c)}: ${parsed.message}`);
      return parsed.words;
    }),
  );
}

export interface MissingVariable {
  variable: string;
  step: number;
  command: number;
  message: string;
}

/** The first variable of the steps that `data` does not give (built-ins aside), or null. */
export function missingVariable(
  steps: readonly StepShape[],
  data: Readonly<Record<string, string>>,
): MissingVariable | null {
  const parsed = parsedSteps(steps);
  for (const [s, commands] of parsed.entries()) {
    for (const [c, words] of commands.entries()) {
      const variable = templateVariables(words).find(
        (name) => !isBuiltinVariable(name) && !Object.hasOwn(data, name),
      );
      if (variable !== undefined) {
        const message = `variable "${variable}" is missing from the task data; ${where(steps, s, c)} uses it`;
        return { variable, step: s, command: c, message };
      }
    }
  }
  return null;
}

/** The executors a task of these steps needs, sorted and once each: one agent must have them all. */
export function requiredExecutors(steps: readonly StepShape[]): string[] {
  return [...new Set(steps.map((step) => step.executor))].sort();
}
