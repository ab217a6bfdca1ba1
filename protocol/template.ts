/**
 * Command templates of pipeline steps: split into argv words once, with POSIX-like quoting, and
 * rendered by putting values inside words. Nothing here ever runs a shell, so a value can never
 * become more (or less) than its place in one argument, whatever characters it holds.
 */

/** Literal text, or the name of a `{{variable}}` to put in its place. */
export type TemplatePart = { text: string } | { variable: string };
/** One argument: the concatenation of its parts. */
export type TemplateWord = TemplatePart[];

export type ParsedTemplate =
  { ok: true; words: TemplateWord[] } | { ok: false; message: string; at: number };

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const NO_SHELL = 'commands run without a shell';
const QUOTE_IT = "quote it ('…') to pass it literally";
/** Characters a shell would treat as syntax outside quotes, and what they would have done. */
const OPERATORS: Record<string, string> = {
  '|': 'a pipe',
  '&': 'a background or list operator',
  ';': 'a command separator',
  '<': 'a redirection',
  '>': 'a redirection',
  '(': 'a subshell',
  ')': 'a subshell',
  '`': 'a command substitution (a backtick)',
  '*': 'a glob',
  '?': 'a glob',
  '[': 'a glob',
};

class TemplateError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/**
 * Splits a command template into words: `'…'` keeps everything literal, `"…"` allows `\"`, `\\`,
 * `` \` `` and `\$`, a backslash outside quotes makes the next character literal. `{{name}}` is
 * a variable wherever it stands, quoted or not. Shell syntax outside quotes (operators, globs,
 * `$NAME`, `$(…)`, a leading `~` or `#`, line breaks) is refused, since nothing would interpret it.
 */
export function parseCommandTemplate(template: string): ParsedTemplate {
  try {
    const words = new Tokenizer(template).words();
    if (words.length === 0) return { ok: false, message: 'the command is empty', at: 0 };
    return { ok: true, words };
  } catch (error) {
    if (error instanceof TemplateError) return { ok: false, message: error.message, at: error.at };
    throw error;
  }
}

class Tokenizer {
  private i = 0;
  private readonly out: TemplateWord[] = [];
  /** The word being read; null between words. */
  private word: TemplateWord | null = null;

  constructor(private readonly source: string) {}

  words(): TemplateWord[] {
    const s = this.source;
    while (this.i < s.length) {
      const c = s.charAt(this.i);
      if (c === ' ' || c === '\t') {
        this.endWord();
        this.i++;
      } else if (c === '\n' || c === '\r') {
        this.fail(
          `a line break separates commands in a shell, and ${NO_SHELL}: give each command on its own`,
        );
      } else if (c === "'") {
        this.singleQuoted();
      } else if (c === '"') {
        this.doubleQuoted();
      } else if (c === '\\') {
        this.escaped();
      } else if (s.startsWith('{{', this.i)) {
        this.variable();
      } else {
        this.checkUnquoted(c);
        this.text(c);
        this.i++;
      }
    }
    this.endWord();
    return this.out;
  }

  private checkUnquoted(c: string): void {
    const atWordStart = this.word === null;
    const operator = OPERATORS[c];
    if (operator)
      this.fail(`\`${c}\` would be ${operator} in a shell, but ${NO_SHELL}; ${QUOTE_IT}`);
    if (c === '$') this.checkDollar();
    if (atWordStart && c === '~')
      this.fail(`a leading \`~\` is not expanded: ${NO_SHELL}; ${QUOTE_IT}`);
    if (atWordStart && c === '#') this.fail(`\`#\` would start a comment in a shell; ${QUOTE_IT}`);
  }

  /** `$NAME`, `${…}` and `$(…)` would expand in a shell (also inside double quotes). */
  private checkDollar(): void {
    const next = this.source.charAt(this.i + 1);
    if (next === '(')
      this.fail(`\`$(\` would be a command substitution in a shell, but ${NO_SHELL}`);
    if (next === '{' || /[A-Za-z0-9_@*#?$!-]/.test(next)) {
      this.fail(
        `\`$${next}\` would expand in a shell, but ${NO_SHELL}: use {{name}} for task data, or \\$ for a literal $`,
      );
    }
  }

  private singleQuoted(): void {
    const start = this.i;
    this.begin();
    this.i++;
    for (;;) {
      if (this.i >= this.source.length) this.fail('unterminated single quote', start);
      const c = this.source.charAt(this.i);
      if (c === "'") break;
      if (this.source.startsWith('{{', this.i)) this.variable();
      else {
        this.text(c);
        this.i++;
      }
    }
    this.i++;
  }

  private doubleQuoted(): void {
    const start = this.i;
    this.begin();
    this.i++;
    for (;;) {
      if (this.i >= this.source.length) this.fail('unterminated double quote', start);
      const c = this.source.charAt(this.i);
      if (c === '"') break;
      if (c === '\\' && '"\\$`\n'.includes(this.source.charAt(this.i + 1))) {
        const next = this.source.charAt(this.i + 1);
        if (next !== '\n') this.text(next);
        this.i += 2;
      } else if (this.source.startsWith('{{', this.i)) {
        this.variable();
      } else {
        if (c === '`')
          this.fail(`a backtick would be a command substitution in a shell, but ${NO_SHELL}`);
        if (c === '$') this.checkDollar();
        this.text(c);
        this.i++;
      }
    }
    this.i++;
  }

  private escaped(): void {
    const next = this.source.charAt(this.i + 1);
    if (next === '') this.fail('a backslash at the end escapes nothing');
    // Backslash-newline continues the line, as in a shell.
    if (next !== '\n') this.text(next);
    this.i += 2;
  }

  private variable(): void {
    const start = this.i;
    const end = this.source.indexOf('}}', start + 2);
    if (end < 0) this.fail('`{{` without its closing `}}`', start);
    const name = this.source.slice(start + 2, end).trim();
    if (!VARIABLE_NAME.test(name)) {
      this.fail(
        `{{${name}}} is not a variable name: use letters, digits and _, starting with a letter or _`,
        start,
      );
    }
    this.begin().push({ variable: name });
    this.i = end + 2;
  }

  private text(c: string): void {
    const word = this.begin();
    const last = word.at(-1);
    if (last && 'text' in last) last.text += c;
    else word.push({ text: c });
  }

  /** The current word, started if need be (a quote alone starts one: `''` is an empty argument). */
  private begin(): TemplateWord {
    this.word ??= [];
    return this.word;
  }

  private endWord(): void {
    if (this.word !== null) this.out.push(this.word);
    this.word = null;
  }

  private fail(message: string, at = this.i): never {
    throw new TemplateError(`${message} (at character ${at + 1})`, at);
  }
}

/** The variables a template uses, each once, in order of first use. */
export function templateVariables(words: readonly TemplateWord[]): string[] {
  const names = new Set<string>();
  for (const word of words)
    for (const part of word) if ('variable' in part) names.add(part.variable);
  return [...names];
}

export type Rendered = { ok: true; argv: string[] } | { ok: false; missing: string[] };

/**
 * Puts values into the words: each word becomes exactly one argument. Values are inserted as they
 * are, never parsed again, so `{{…}}` inside a value stays literal text.
 */
export function renderCommand(
  words: readonly TemplateWord[],
  values: Readonly<Record<string, string>>,
): Rendered {
  const missing = templateVariables(words).filter((name) => !Object.hasOwn(values, name));
  if (missing.length > 0) return { ok: false, missing };
  const argv = words.map((word) =>
    word.map((part) => ('text' in part ? part.text : (values[part.variable] ?? ''))).join(''),
  );
  return { ok: true, argv };
}
