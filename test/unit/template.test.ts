/** Command templates: quoting, variables, refused shell syntax, and values that stay one argument. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  parseCommandTemplate,
  renderCommand,
  templateVariables,
  type TemplateWord,
} from '../../protocol/template.ts';

function words(template: string): TemplateWord[] {
  const parsed = parseCommandTemplate(template);
  if (!parsed.ok) throw new Error(`expected ${template} to parse: ${parsed.message}`);
  return parsed.words;
}

function argv(template: string, values: Record<string, string> = {}): string[] {
  const rendered = renderCommand(words(template), values);
  if (!rendered.ok) throw new Error(`missing ${rendered.missing.join(', ')}`);
  return rendered.argv;
}

function refusal(template: string): string {
  const parsed = parseCommandTemplate(template);
  if (parsed.ok) throw new Error(`expected ${template} to be refused`);
  return parsed.message;
}

/** How /bin/sh splits a line with no expansions in it: the oracle for plain quoting. */
function shellWords(line: string): string[] {
  const out = spawnSync('/bin/sh', ['-c', `for a in ${line}; do printf '%s\\0' "$a"; done`], {
    encoding: 'utf8',
  });
  return out.stdout.split('\0').slice(0, -1);
}

describe('parseCommandTemplate', () => {
  it('splits words on blanks and keeps variables as parts of words', () => {
    expect(words('wget -O {{workdir}}/image.png {{url}}')).toEqual([
      [{ text: 'wget' }],
      [{ text: '-O' }],
      [{ variable: 'workdir' }, { text: '/image.png' }],
      [{ variable: 'url' }],
    ]);
    expect(argv('  a\t\tb  ')).toEqual(['a', 'b']);
    expect(words('x{{ a }}y{{b}}')).toEqual([
      [{ text: 'x' }, { variable: 'a' }, { text: 'y' }, { variable: 'b' }],
    ]);
  });

  it('quotes like a POSIX shell: single, double, backslash, adjacent pieces, empty words', () => {
    const cases = [
      `'a b' c`,
      `"a b"'c d'e`,
      `a\\ b`,
      `"x\\"y" 'it'\\''s'`,
      `"back\\\\slash" "keep\\n"`,
      `'' "" x`,
      `"\\$HOME" '$HOME' \\$HOME`,
      `'a|b;c&d>e<f' "g|h;i"`,
      `'*' "?" \\*`,
    ];
    for (const line of cases) expect(argv(line), line).toEqual(shellWords(line));
  });

  it('takes backslash-newline as a line continuation', () => {
    expect(argv('a \\\nb "c\\\nd"')).toEqual(['a', 'b', 'cd']);
  });

  it('finds variables inside quotes too', () => {
    expect(argv(`say '{{a}} and {{b}}' "<{{a}}>"`, { a: '1', b: '2' })).toEqual([
      'say',
      '1 and 2',
      '<1>',
    ]);
  });

  it('lists variables once each, in order of first use', () => {
    expect(templateVariables(words('{{b}} {{a}}{{b}} "{{c}}"'))).toEqual(['b', 'a', 'c']);
  });

  it.each([
    ['cat a | wc', '`|` would be a pipe'],
    ['a; b', '`;` would be a command separator'],
    ['a && b', '`&` would be a background or list operator'],
    ['sleep 1 &', '`&`'],
    ['echo x > out', '`>` would be a redirection'],
    ['cat < in', '`<` would be a redirection'],
    ['echo 2>&1', '`>`'],
    ['(cd x)', '`(` would be a subshell'],
    ['echo `id`', 'a command substitution (a backtick)'],
    ['echo $(id)', '`$(` would be a command substitution'],
    ['echo "$(id)"', '`$(` would be a command substitution'],
    ['echo "`id`"', 'a backtick would be a command substitution'],
    ['echo $HOME', '`$H` would expand in a shell'],
    ['echo "${HOME}"', '`${` would expand'],
    ['echo $1', '`$1` would expand'],
    ['ls *.txt', '`*` would be a glob'],
    ['ls file?', '`?` would be a glob'],
    ['ls [ab]', '`[` would be a glob'],
    ['cat ~/x', 'a leading `~` is not expanded'],
    ['echo #comment', '`#` would start a comment'],
    ['a\nb', 'a line break separates commands'],
    ['a\r\nb', 'a line break'],
  ])('refuses shell syntax outside quotes: %j', (template, message) => {
    const refused = refusal(template);
    expect(refused).toContain(message);
    expect(refused).toMatch(/at character \d+\)$/);
  });

  it('allows those characters where a shell would not read them as syntax', () => {
    expect(argv(`echo 'a|b' "c;d" e\\&f 'g>h' "i*j" 'k$(l)' '\`m\`' a#b x~y $ "$"`)).toEqual([
      'echo',
      'a|b',
      'c;d',
      'e&f',
      'g>h',
      'i*j',
      'k$(l)',
      '`m`',
      'a#b',
      'x~y',
      '$',
      '$',
    ]);
  });

  it.each([
    ['', 'the command is empty'],
    ['   ', 'the command is empty'],
    ["echo 'open", 'unterminated single quote (at character 6)'],
    ['echo "open', 'unterminated double quote (at character 6)'],
    ['echo \\', 'a backslash at the end escapes nothing'],
    ['echo {{url', '`{{` without its closing `}}`'],
    ['echo {{not-a-name}}', '{{not-a-name}} is not a variable name'],
    ['echo {{}}', '{{}} is not a variable name'],
    ['echo {{1x}}', 'is not a variable name'],
  ])('refuses a malformed template: %j', (template, message) => {
    expect(refusal(template)).toContain(message);
  });

  it('reads a single brace as text, and an escaped brace never opens a variable', () => {
    expect(argv('a{b} {x} \\{{y}}')).toEqual(['a{b}', '{x}', '{{y}}']);
  });
});

describe('renderCommand', () => {
  const template = 'wget -O {{workdir}}/image.png {{url}}';
  const attacks = [
    'x; rm -rf /',
    'x; touch /tmp/pwned',
    '$(touch /tmp/pwned)',
    '`touch /tmp/pwned`',
    'a\ntouch /tmp/pwned',
    "' ; touch /tmp/pwned ; '",
    '" ; touch /tmp/pwned ; "',
    'a b  c\t d',
    '&& touch /tmp/pwned',
    '| sh',
    '> /etc/passwd',
    '*',
    '~',
    '$HOME',
    '\\',
    '',
    '{{workdir}}',
    '{{task_id}} {{url}}',
  ];

  it.each(attacks)('keeps the value %j one argument, exactly as given', (url) => {
    const result = argv(template, { workdir: '/w', url });
    expect(result).toEqual(['wget', '-O', '/w/image.png', url]);
  });

  it('keeps a value part of its word wherever it stands, quoted or not', () => {
    for (const value of attacks) {
      expect(argv(`p --x={{v}}.txt "a {{v}}" '{{v}}'`, { v: value })).toEqual([
        'p',
        `--x=${value}.txt`,
        `a ${value}`,
        value,
      ]);
    }
  });

  it('never expands variables found inside values', () => {
    expect(argv('echo {{a}} {{b}}', { a: '{{b}}', b: '{{a}}' })).toEqual([
      'echo',
      '{{b}}',
      '{{a}}',
    ]);
  });

  it('makes an empty value an empty argument, not no argument', () => {
    expect(argv('p {{a}} z', { a: '' })).toEqual(['p', '', 'z']);
  });

  it('names every missing variable', () => {
    expect(renderCommand(words('p {{a}} {{b}} {{c}}'), { b: '1' })).toEqual({
      ok: false,
      missing: ['a', 'c'],
    });
  });

  it('does not take inherited properties for values', () => {
    expect(renderCommand(words('p {{constructor}} {{toString}}'), {})).toEqual({
      ok: false,
      missing: ['constructor', 'toString'],
    });
  });

  it('runs as an argv without a shell: the attack stays data', () => {
    const url = 'x; echo pwned; $(echo pwned) `echo pwned`';
    const rendered = argv("printf '[%s]' {{url}}", { url });
    const out = spawnSync(rendered[0] ?? '', rendered.slice(1), { encoding: 'utf8' });
    expect(out.stdout).toBe(`[${url}]`);
  });
});
