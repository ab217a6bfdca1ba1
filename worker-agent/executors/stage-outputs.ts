/**
 * A dataflow stage's declared output files: the folder the command writes them into, and their
 * upload once it has succeeded. The folder is a new private one of the agent's (inputs-root.ts),
 * shown read-write to the task alone. A declared file is read only as the regular file of that
 * name in the folder, opened without following a symlink: a task that links `report.csv` to the
 * agent's key gets its attempt failed, never the key uploaded.
 */
import { constants } from 'node:fs';
import { lstat, mkdtemp, open } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_STAGE_OUTPUT_BYTES, type StageInstance } from '../../protocol/index.ts';
import { inputsRoot } from '../inputs-root.ts';
import { createUrlStore } from '../storage/url-store.ts';

type Outputs = NonNullable<StageInstance['outputs']>;

export const makeOutputsFolder = (): Promise<string> => mkdtemp(join(inputsRoot(), 'out-'));

/** The argv with `{{outputs}}` in each word after the program made the folder's path. */
export const withOutputsFolder = (args: readonly string[], dir: string): string[] =>
  args.map((word) => word.replaceAll('{{outputs}}', dir));

/** Uploads every declared file from `dir`; returns why it could not, or null once all are up. */
export async function uploadOutputs(dir: string, outputs: Outputs): Promise<string | null> {
  const store = createUrlStore(outputs.store, {
    put: new Map(outputs.files.map((file) => [file.key, file.url])),
  });
  try {
    for (const file of outputs.files) {
      const read = await readOutput(dir, file.name);
      if (typeof read === 'string') return read;
      await store.put(file.key, read);
    }
    return null;
  } catch (error) {
    return `cannot upload the stage's outputs: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    store.close();
  }
}

/** The bytes of a declared output, or why it cannot be read. */
async function readOutput(dir: string, name: string): Promise<Uint8Array | string> {
  const path = join(dir, name);
  const found = await lstat(path).catch(() => null);
  if (!found) return `the stage declares output "${name}" but wrote no $TM_OUTPUTS/${name}`;
  if (!found.isFile())
    return `output "${name}" is not a regular file (a symlink or folder is never followed)`;
  if (found.size > MAX_STAGE_OUTPUT_BYTES)
    return `output "${name}" is ${found.size} bytes; an output file is at most ${MAX_STAGE_OUTPUT_BYTES}`;
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > MAX_STAGE_OUTPUT_BYTES)
      return `output "${name}" changed while it was read`;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
