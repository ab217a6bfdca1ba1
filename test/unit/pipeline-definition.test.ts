/** Pipeline definitions and task data: what is refused and why, defaults, needed executors. */
import { describe, expect, it } from 'vitest';
import {
  InlinePipelineRequest,
  PipelineTaskData,
  dataStrings,
  missingVariable,
  normalizeDefinition,
  PipelineDefinition,
  requiredExecutors,
} from '../../protocol/index.ts';

const OCR = {
  pipeline: [
    { executor: 'wget', commands: ['wget -O {{workdir}}/image.png {{url}}'] },
    {
      executor: 'tesseract',
      commands: [
        'tesseract {{workdir}}/image.png {{workdir}}/result',
        'cat {{workdir}}/result.txt',
      ],
    },
  ],
};

function issues(definition: unknown): { path: string; message: string }[] {
  const parsed = PipelineDefinition.safeParse(definition);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('pipeline definitions', () => {
  it('accepts the OCR pipeline and fills in names and defaults', () => {
    expect(issues(OCR)).toEqual([]);
    const spec = normalizeDefinition(PipelineDefinition.parse(OCR));
    expect(spec.pipeline.map((s) => s.name)).toEqual(['wget', 'tesseract']);
    expect(spec).toMatchObject({
      result: 'tesseract',
      maxConcurrency: 100,
      targetQueueSeconds: 60,
    });
  });

  it('keeps what was given: result step, scaling and fault settings', () => {
    const spec = normalizeDefinition(
      PipelineDefinition.parse({
        ...OCR,
        result: 'wget',
        maxConcurrency: 3,
        targetQueueSeconds: 5,
        retries: 2,
        timeoutSeconds: 30,
      }),
    );
    expect(spec).toMatchObject({
      result: 'wget',
      maxConcurrency: 3,
      targetQueueSeconds: 5,
      retries: 2,
      timeoutSeconds: 30,
    });
  });

  it('names the step and command of a shell operator', () => {
    const found = issues({
      pipeline: [
        { executor: 'wget', commands: ['wget {{url}}'] },
        { executor: 'tesseract', commands: ['true', 'tesseract x - | tee out'] },
      ],
    });
    expect(found).toEqual([
      {
        path: 'pipeline.1.commands.1',
        message: expect.stringMatching(
          /^step 2 "tesseract", command 2: `\|` would be a pipe in a shell, but commands run without a shell/,
        ),
      },
    ]);
  });

  it('refuses a program word made of task data, but allows the built-ins', () => {
    expect(
      issues({ pipeline: [{ executor: 'x', commands: ['{{tool}} --help'] }] })[0]?.message,
    ).toContain('the program (first word) uses {{tool}}; task data must never choose what runs');
    expect(
      issues({ pipeline: [{ executor: 'x', commands: ['{{workdir}}/run.sh {{arg}}'] }] }),
    ).toEqual([]);
  });

  it('refuses empty pipelines, empty steps, unknown fields and bad names', () => {
    expect(issues({ pipeline: [] })[0]?.message).toBe('a pipeline needs at least one step');
    expect(issues({ pipeline: [{ executor: 'wget', commands: [] }] })[0]?.message).toBe(
      'a step needs at least one command',
    );
    expect(issues({ ...OCR, colour: 'red' })[0]).toMatchObject({
      message: expect.stringContaining('colour'),
    });
    expect(
      issues({ pipeline: [{ executor: 'wget', commands: ['x'], shell: true }] })[0]?.path,
    ).toBe('pipeline.0');
    expect(issues({ pipeline: [{ executor: 'Bad Name', commands: ['x'] }] })[0]?.path).toBe(
      'pipeline.0.executor',
    );
    expect(issues({ pipeline: [{ executor: 'x', commands: [''] }] })[0]?.message).toContain(
      'the command is empty',
    );
  });

  it('needs distinct step names and a result that names a step', () => {
    const twice = {
      pipeline: [
        { executor: 'sh', commands: ['a'] },
        { executor: 'sh', commands: ['b'] },
      ],
    };
    expect(issues(twice)[0]).toEqual({
      path: 'pipeline.1.name',
      message: expect.stringContaining('another step is already named "sh"'),
    });
    const named = {
      pipeline: [
        { executor: 'sh', commands: ['a'] },
        { name: 'second', executor: 'sh', commands: ['b'] },
      ],
    };
    expect(issues(named)).toEqual([]);
    expect(issues({ ...named, result: 'third' })[0]).toEqual({
      path: 'result',
      message: '"result" names no step: "third"',
    });
  });

  it('needs a name in the create request', () => {
    expect(InlinePipelineRequest.safeParse(OCR).success).toBe(false);
    expect(InlinePipelineRequest.safeParse({ name: 'ocr', ...OCR }).success).toBe(true);
  });

  it('lists the executors a task needs, sorted, once each', () => {
    expect(
      requiredExecutors([
        ...OCR.pipeline,
        { executor: 'wget', name: 'again', commands: ['wget x'] },
      ]),
    ).toEqual(['tesseract', 'wget']);
  });
});

describe('task data', () => {
  it('names the missing variable and the step that uses it', () => {
    expect(missingVariable(OCR.pipeline, {})).toEqual({
      variable: 'url',
      step: 0,
      command: 0,
      message: 'variable "url" is missing from the task data; step 1 "wget", command 1 uses it',
    });
    expect(missingVariable(OCR.pipeline, { url: 'x' })).toBeNull();
  });

  it('turns numbers and booleans into text', () => {
    expect(dataStrings(PipelineTaskData.parse({ a: 'x', n: 1.5, b: false }))).toEqual({
      a: 'x',
      n: '1.5',
      b: 'false',
    });
  });

  it('refuses built-in names, bad names, NULs, nested values and too many variables', () => {
    const message = (data: unknown) => PipelineTaskData.safeParse(data).error?.issues[0]?.message;
    expect(message({ workdir: '/etc' })).toBe(
      '{{workdir}} is set by the agent for every task; task data may not give it',
    );
    expect(message({ task_id: 'x' })).toContain('set by the agent');
    expect(message({ 'a-b': 'x' })).toContain('"a-b" is not a variable name');
    expect(message({ a: 'x\0y' })).toBe('a value may not contain a NUL character');
    expect(PipelineTaskData.safeParse({ a: { b: 1 } }).success).toBe(false);
    expect(PipelineTaskData.safeParse({ a: null }).success).toBe(false);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`v${i}`, 'x']));
    expect(message(many)).toBe('at most 64 variables per task');
  });
});
