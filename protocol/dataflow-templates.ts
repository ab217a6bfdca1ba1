/**
 * Upstream results as template values in a dataflow stage's argv: `{{split}}` is every instance's
 * result of upstream stage `split`, one per line, and `{{split.2}}` instance 2's. Only argv
 * commands take them, and never in the program word: nothing runs a shell over the words, so a
 * value is always exactly one argument's text. In a shell line, `$TM_INPUT_split` is the way.
 * Pure, shared by the submit check and the Scheduler's rendering.
 */

const TEMPLATE = /\{\{([A-Za-z_][A-Za-z0-9_]*)(?:\.(\d+))?\}\}/g;

export interface TemplateStage {
  name: string;
  kind?: string;
  command?: string | readonly string[];
  dependsOn?: readonly string[] | undefined;
}

export interface TemplateIssue {
  path: (string | number)[];
  message: string;
}

/** Templates that name no upstream, choose the program, or stand in a shell line. */
export function templateIssues(stages: readonly TemplateStage[]): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  stages.forEach((stage, s) => {
    const upstreams = new Set(stage.dependsOn ?? []);
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
        else if (!upstreams.has(name))
          issues.push({
            path,
            message: `stage "${stage.name}": {{${name}}} names no stage it depends on`,
          });
      }
    });
  });
  return issues;
}

/** The argv with each template replaced by its upstream's results (absent ones: empty). */
export function renderArgv(
  argv: readonly string[],
  inputs: Readonly<Record<string, readonly (string | null)[]>>,
): string[] {
  return argv.map((word, w) =>
    w === 0
      ? word
      : word.replace(TEMPLATE, (whole, name: string, instance: string | undefined) => {
          const results = inputs[name];
          if (!results) return whole;
          if (instance !== undefined) return trimEnd(results[Number(instance)] ?? '');
          return results.map((text) => trimEnd(text ?? '')).join('\n');
        }),
  );
}

const trimEnd = (text: string) => text.replace(/\n$/, '');

function namesIn(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((match) => match[1]!);
}
