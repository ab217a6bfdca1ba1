/** Upstream results as template values in a stage's argv: checked at submit, rendered per word. */
import { describe, expect, it } from 'vitest';
import { renderArgv, renderTemplates, templateIssues } from '../../protocol/index.ts';

describe('templateIssues', () => {
  it('accepts templates of upstreams in argv words after the program', () => {
    expect(
      templateIssues([
        { name: 'a' },
        { name: 'b', dependsOn: ['a'], command: ['wc', '-l', '{{a}}', 'x{{a.1}}y'] },
      ]),
    ).toEqual([]);
  });

  it('refuses a template that chooses the program, names no upstream, or sits in a shell line', () => {
    const messages = templateIssues([
      { name: 'a' },
      { name: 'b', dependsOn: ['a'], command: ['{{a}}', 'x'] },
      { name: 'c', command: ['echo', '{{a}}'] },
      { name: 'd', dependsOn: ['a'], command: 'echo {{a}}' },
    ]).map((issue) => issue.message);
    expect(messages).toEqual([
      'stage "b": the program (argv[0]) uses {{a}}; task data must never choose what runs',
      'stage "c": {{a}} names no stage it depends on',
      'stage "d": {{a}} is not expanded in a shell line; use "$TM_INPUT_a", or give the command as an argv array',
    ]);
  });

  it("checks a pipeline stage's data values: one object or a list", () => {
    const issues = templateIssues([
      { name: 'a' },
      { name: 'p', dependsOn: ['a'], data: { ok: '{{a.0}}', bad: 'x{{b}}' } },
      { name: 'q', dependsOn: ['a'], data: [{ ok: '{{a}}' }, { n: 3, bad: '{{q}}' }] },
    ]);
    expect(issues).toEqual([
      {
        path: ['stages', 1, 'data', 'bad'],
        message: 'stage "p": {{b}} names no stage it depends on',
      },
      {
        path: ['stages', 2, 'data', 1, 'bad'],
        message: 'stage "q": {{q}} names no stage it depends on',
      },
    ]);
  });

  it('takes {{outputs}} in the argv of a stage that declares outputs, and only there', () => {
    expect(
      templateIssues([{ name: 'a', command: ['cp', 'x', '{{outputs}}/x'], outputs: ['x'] }]),
    ).toEqual([]);
    expect(templateIssues([{ name: 'a', command: ['cp', 'x', '{{outputs}}/x'] }])).toEqual([
      {
        path: ['stages', 0, 'command', 2],
        message:
          'stage "a": {{outputs}} is the outputs folder of a stage that declares outputs, and this one declares none',
      },
    ]);
  });

  it('leaves braces in a shell line alone when they name no upstream', () => {
    expect(templateIssues([{ name: 'a', command: "awk '{{x}}'" }])).toEqual([]);
  });
});

describe('renderArgv', () => {
  const inputs = { a: ['one\n', null, 'three'] };
  it('puts every instance, one per line, or one instance, inside the word', () => {
    expect(
      renderArgv(['printf', '%s', '[{{a}}]', '<{{a.2}}>', '{{a.1}}', '{{a.9}}'], inputs),
    ).toEqual(['printf', '%s', '[one\n\nthree]', '<three>', '', '']);
  });

  it('keeps shell syntax in a value as text: it is one argument, never run', () => {
    expect(renderArgv(['echo', '{{a.0}}'], { a: ['$(rm -rf /); `x` && y'] })).toEqual([
      'echo',
      '$(rm -rf /); `x` && y',
    ]);
  });

  it('renders a data value the way it renders a word', () => {
    expect(renderTemplates('{{a.0}}|{{a}}|{{other}}', inputs)).toBe('one|one\n\nthree|{{other}}');
  });

  it('never renders the program word', () => {
    expect(renderArgv(['{{a}}'], inputs)).toEqual(['{{a}}']);
  });
});
