/**
 * What a dataflow stage's command task gets beyond a plain command: its place in the stage, its
 * upstreams' results as variables and files, and the end of its stdout kept as its result.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MAX_STAGE_RESULT_BYTES, type StageInstance } from '../../protocol/index.ts';
import { inputsRoot } from '../inputs-root.ts';
import { createUrlStore } from '../storage/url-store.ts';

/**
 * Longest upstream result set passed as a TM_INPUT_<stage> variable: Linux refuses to start a
 * program with a single variable over 128 KiB, so larger ones are read from the files alone.
 */
export const MAX_INPUT_VARIABLE_BYTES = 32 * 1024;

/**
 * Writes `<dir>/<upstream>/<instance>` for each upstream result (an instance with none: no file),
 * and each input file read from its URL (`<upstream>/result.arrow`, an aggregate's result, and
 * `<upstream>/outputs/<instance>/<name>`, an upstream's output), into a new folder in the agent's
 * own (inputs-root.ts: mode 0700), which a sandbox shows read-only. Not in the task's own dir: a
 * task could swap a folder there for a symlink while the agent writes, and have the agent write
 * elsewhere. The folder is removed if a write fails.
 */
export async function writeInputs(stage: StageInstance): Promise<string> {
  const dir = await mkdtemp(join(inputsRoot(), 'task-'));
  try {
    for (const [upstream, results] of Object.entries(stage.inputs)) {
      await mkdir(join(dir, upstream), { recursive: true });
      for (const [instance, text] of results.entries())
        if (text !== null) await writeFile(join(dir, upstream, String(instance)), text);
    }
    for (const file of stage.files ?? []) {
      const store = createUrlStore(file.store, { get: new Map([[file.key, file.url]]) });
      const path = join(dir, file.path);
      await mkdir(dirname(path), { recursive: true });
      await store.download(file.key, path).finally(() => store.close());
    }
    return dir;
  } catch (error) {
    await removeInputs(dir);
    throw error;
  }
}

export const removeInputs = (dir: string): Promise<void> =>
  rm(dir, { recursive: true, force: true }).catch(() => undefined);

export function stageEnv(
  stage: StageInstance,
  dir: string,
  outputs: string | null,
): Record<string, string> {
  const env: Record<string, string> = {
    TM_STAGE: stage.name,
    TM_INSTANCE: String(stage.instance),
    TM_PARALLELISM: String(stage.parallelism),
    TM_INPUTS: dir,
    ...(outputs ? { TM_OUTPUTS: outputs } : {}),
  };
  for (const [upstream, results] of Object.entries(stage.inputs)) {
    const joined = results.map((text) => (text ?? '').replace(/\n$/, '')).join('\n');
    if (Buffer.byteLength(joined) <= MAX_INPUT_VARIABLE_BYTES) env[`TM_INPUT_${upstream}`] = joined;
  }
  return env;
}

/** Keeps the last MAX_STAGE_RESULT_BYTES of a stream's bytes: a stage task's result. */
export class StdoutTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (
      this.chunks.length > 1 &&
      this.bytes - this.chunks[0]!.length >= MAX_STAGE_RESULT_BYTES
    ) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  /** The kept text, cut at a character boundary, without its one final line break. */
  text(): string {
    let tail = Buffer.concat(this.chunks);
    if (tail.length > MAX_STAGE_RESULT_BYTES)
      tail = tail.subarray(tail.length - MAX_STAGE_RESULT_BYTES);
    let start = 0;
    // Skip UTF-8 continuation bytes (10xxxxxx) left by the cut.
    while (start < tail.length && start < 4 && (tail[start]! & 0xc0) === 0x80) start++;
    return tail.subarray(start).toString('utf8').replace(/\n$/, '');
  }
}
