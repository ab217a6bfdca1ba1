/**
 * tm's dataflow job files: TOML, YAML and JSON parsed onto DataflowJobRequest, and each problem
 * named by file, line and key path (the locators of TOML and JSON keys tested on their own).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobFileError, parseJobFile } from '../../cli/job-file/job-file.ts';
import { jsonKeyLines } from '../../cli/job-file/json-key-lines.ts';
import { formatKeyPath } from '../../cli/job-file/key-path.ts';
import { formatOf } from '../../cli/job-file/parse-source.ts';
import { tomlKeyLines } from '../../cli/job-file/toml-key-lines.ts';
import { repoRoot } from '../../cli/local/repo.ts';

/** The message parseJobFile refuses `text` with. */
function refusal(text: string, file: string): string {
  try {
    parseJobFile(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(JobFileError);
    return (error as Error).message;
  }
  throw new Error(`${file} was accepted`);
}

const TOML = `name = "diamond"
retries = 1

[[stages]]
name = "split"
kind = "command"
command = "echo part"
parallelism = 3

[[stages]]
name = "join"
kind = "command"
dependsOn = ["split"]
command = """
echo joined
"""

[stages.env]
LEVEL = "2"
`;

describe('job files', () => {
  it('reads TOML onto the request, kind defaulting to dataflow', () => {
    expect(parseJobFile(TOML, 'job.toml')).toEqual({
      kind: 'dataflow',
      name: 'diamond',
      retries: 1,
      stages: [
        { name: 'split', kind: 'command', command: 'echo part', parallelism: 3 },
        {
          name: 'join',
          kind: 'command',
          dependsOn: ['split'],
          command: 'echo joined\n',
          env: { LEVEL: '2' },
        },
      ],
    });
  });

  it('reads the same job from YAML and JSON', () => {
    const yaml = `name: diamond
retries: 1
stages:
  - {name: split, kind: command, command: echo part, parallelism: 3}
  - name: join
    kind: command
    dependsOn: [split]
    command: |
      echo joined
    env: {LEVEL: "2"}
`;
    const job = parseJobFile(TOML, 'job.toml');
    expect(parseJobFile(yaml, 'job.yaml')).toEqual(job);
    expect(parseJobFile(JSON.stringify(job, null, 2), 'job.json')).toEqual(job);
  });

  it('picks the format by extension, TOML by default', () => {
    expect([formatOf('a.yml'), formatOf('A.YAML'), formatOf('a.json'), formatOf('a.toml')]).toEqual(
      ['yaml', 'yaml', 'json', 'toml'],
    );
    expect(formatOf('job.conf')).toBe('toml');
  });

  it('names the line and column of a syntax error in each format', () => {
    expect(refusal('name = "x"\nretries = \n', 'job.toml')).toBe(
      'job.toml:2:11: TOML syntax error: invalid value',
    );
    expect(refusal('name: x\nstages:\n  - name: a\n   kind: echo\n', 'job.yaml')).toMatch(
      /^job\.yaml:4:\d+: YAML syntax error: /,
    );
    expect(refusal('{\n  "name": "x",\n  "stages": [}\n', 'job.json')).toBe(
      "job.json:3:14: JSON syntax error: expected a value, found '}'",
    );
    expect(refusal('{"name": "x"} x', 'job.json')).toBe(
      "job.json:1:15: JSON syntax error: expected nothing after the value, found 'x'",
    );
  });

  it("names a missing command at its stage's header line, and an unknown key at its own", () => {
    const text = TOML.replace('command = """\necho joined\n"""\n', '').replace(
      'parallelism = 3',
      'parallelism = 3\nparalelism = 2',
    );
    expect(refusal(text, 'job.toml')).toBe(
      [
        'job.toml is not a valid dataflow job:',
        '  job.toml:9: stages[0].paralelism: unknown key',
        '  job.toml:11: stages[1].command: missing (expected string or array)',
      ].join('\n'),
    );
  });

  it('names the same problems by line in YAML and JSON', () => {
    const yaml =
      'stages:\n  - name: a\n    kind: command\n  - name: b\n    kind: echo\n    bogus: 1\n';
    expect(refusal(yaml, 'job.yml')).toBe(
      [
        'job.yml is not a valid dataflow job:',
        '  job.yml:2: stages[0].command: missing (expected string or array)',
        '  job.yml:6: stages[1].bogus: unknown key',
      ].join('\n'),
    );
    const json =
      '{\n  "stages": [\n    {"name": "a", "kind": "command"},\n    {"name": "b",\n     "kind": "echo", "bogus": 1}\n  ],\n  "zap": true\n}';
    expect(refusal(json, 'job.json')).toBe(
      [
        'job.json is not a valid dataflow job:',
        '  job.json:3: stages[0].command: missing (expected string or array)',
        '  job.json:5: stages[1].bogus: unknown key',
        '  job.json:7: zap: unknown key',
      ].join('\n'),
    );
  });

  it("names a cycle and an unknown upstream at the stage's dependsOn line", () => {
    const stages = (a: string, b: string) =>
      `[[stages]]\nname = "a"\nkind = "echo"\ndependsOn = ["${a}"]\n\n[[stages]]\nname = "b"\nkind = "echo"\ndependsOn = [\n  "${b}",\n]\n`;
    expect(refusal(stages('b', 'a'), 'job.toml')).toBe(
      'job.toml is not a valid dataflow job:\n' +
        '  job.toml:4: stages[0].dependsOn: the stages form a cycle (each depends on the next): a → b → a',
    );
    expect(refusal(stages('b', 'nope'), 'job.toml')).toBe(
      'job.toml is not a valid dataflow job:\n' +
        '  job.toml:10: stages[1].dependsOn[0]: stage "b" depends on unknown stage "nope"',
    );
  });

  it('says what a wrong value was expected to be, and refuses a job of another kind', () => {
    expect(refusal('[[stages]]\nname = "a"\nkind = "command"\ncommand = 3\n', 'job.toml')).toBe(
      'job.toml is not a valid dataflow job:\n' +
        '  job.toml:4: stages[0].command: Invalid input: expected string or array',
    );
    expect(refusal('kind = "command"\ncommand = "x"\n', 'job.toml')).toContain(
      'job.toml:1: kind: Invalid input: expected "dataflow"',
    );
  });

  it('parses the example job file', () => {
    const file = join(repoRoot, 'examples', 'dataflow', 'batch-example.toml');
    const job = parseJobFile(readFileSync(file, 'utf8'), file);
    expect(job.stages.map((s) => [s.name, s.dependsOn ?? []])).toEqual([
      ['split', []],
      ['count', ['split']],
      ['sum', ['split']],
      ['report', ['count', 'sum']],
    ]);
  });
});

describe('key locators', () => {
  it('TOML: array-of-tables headers, dotted keys, sub-tables, inline tables, array elements', () => {
    const lines = tomlKeyLines(
      [
        'name = "x" # a comment with [[stages]] in it', // 1
        'retryBackoff.initialSeconds = 2', // 2
        '', // 3
        '[[ stages ]]', // 4
        'name = "a"', // 5
        "command = '''", // 6
        '[[stages]]', // 7: inside a string
        "'''", // 8
        'env = { A = "1",', // 9
        '  "B C" = "2" }', // 10
        '', // 11
        '[[stages]]', // 12
        'dependsOn = [', // 13
        '  "a", # first', // 14
        '  "b",', // 15
        ']', // 16
        '[stages.env]', // 17
        'X = "1"', // 18
      ].join('\n'),
    );
    expect(lines.lineOf(['name'])).toBe(1);
    expect(lines.lineOf(['retryBackoff', 'initialSeconds'])).toBe(2);
    expect(lines.lineOf(['retryBackoff', 'maxSeconds'])).toBe(2);
    expect(lines.lineOf(['stages'])).toBe(4);
    expect(lines.lineOf(['stages', 0])).toBe(4);
    expect(lines.lineOf(['stages', 0, 'command'])).toBe(6);
    expect(lines.lineOf(['stages', 0, 'env', 'B C'])).toBe(10);
    expect(lines.lineOf(['stages', 1])).toBe(12);
    expect(lines.lineOf(['stages', 1, 'kind'])).toBe(12);
    expect(lines.lineOf(['stages', 1, 'dependsOn', 1])).toBe(15);
    expect(lines.lineOf(['stages', 1, 'env', 'X'])).toBe(18);
    expect(lines.lineOf(['stages', 2])).toBe(4);
    expect(lines.lineOf(['nothing'])).toBeUndefined();
  });

  it('JSON: keys and array elements where they start', () => {
    const lines = jsonKeyLines('{\n "a": {"b": [\n  1,\n  {"c": "}\\"]"}\n ]},\n "d": null\n}');
    expect(lines.lineOf(['a'])).toBe(2);
    expect(lines.lineOf(['a', 'b', 0])).toBe(3);
    expect(lines.lineOf(['a', 'b', 1, 'c'])).toBe(4);
    expect(lines.lineOf(['d'])).toBe(6);
    expect(lines.lineOf(['a', 'b', 1, 'missing'])).toBe(4);
  });

  it('writes key paths as people read them', () => {
    expect(formatKeyPath(['stages', 1, 'env', 'A B'])).toBe('stages[1].env["A B"]');
    expect(formatKeyPath([])).toBe('(the whole file)');
  });
});
