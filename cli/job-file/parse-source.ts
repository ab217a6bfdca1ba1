/** A job file's text parsed as TOML, YAML or JSON (by its extension, TOML by default). */
import { parse as parseToml, TomlError } from 'smol-toml';
import { jsonKeyLines } from './json-key-lines.ts';
import { SourceSyntaxError, type ParsedSource } from './source.ts';
import { tomlKeyLines } from './toml-key-lines.ts';
import { parseYaml } from './yaml-source.ts';

export type SourceFormat = 'toml' | 'yaml' | 'json';

/** `.yaml`/`.yml` are YAML, `.json` JSON, anything else (`.toml` first) TOML. */
export function formatOf(file: string): SourceFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  return 'toml';
}

export function parseSource(text: string, format: SourceFormat): ParsedSource {
  if (format === 'yaml') return parseYaml(text);
  if (format === 'json') {
    const lines = jsonKeyLines(text);
    return { value: JSON.parse(text), lineOf: (path) => lines.lineOf(path) };
  }
  let value: unknown;
  try {
    value = parseToml(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // smol-toml's message goes on with the lines around the error; the first line says what.
    const what = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new SourceSyntaxError(error.line, error.column, what);
  }
  const lines = tomlKeyLines(text);
  return { value, lineOf: (path) => lines.lineOf(path) };
}
