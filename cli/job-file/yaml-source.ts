/** A YAML job file: parsed by the yaml package, with each node's line from its LineCounter. */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { KeyPath } from './key-path.ts';
import { SourceSyntaxError, type ParsedSource } from './source.ts';

export function parseYaml(text: string): ParsedSource {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0] ?? counter.linePos(error.pos[0]);
    throw new SourceSyntaxError(at.line, at.col, error.message);
  }
  const lineAt = (offset: number) => counter.linePos(offset).line;
  return {
    value: doc.toJS(),
    lineOf(path: KeyPath) {
      let node: unknown = doc.contents;
      let line: number | undefined;
      for (const key of path) {
        if (isMap(node)) {
          const pair = node.items.find(
            (p) => String(isScalar(p.key) ? p.key.value : p.key) === String(key),
          );
          if (!pair) break;
          if (isScalar(pair.key) && pair.key.range) line = lineAt(pair.key.range[0]);
          node = pair.value;
        } else if (isSeq(node) && typeof key === 'number') {
          const item: unknown = node.items[key];
          if (item === undefined) break;
          if (isScalar(item) || isMap(item) || isSeq(item))
            line = item.range ? lineAt(item.range[0]) : line;
          node = item;
        } else break;
      }
      return line;
    },
  };
}
