/** A dataflow stage's outputs folder and upload: what is read, and what is refused, before any PUT. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeOutputsFolder,
  uploadOutputs,
  withOutputsFolder,
} from '../../worker-agent/executors/stage-outputs.ts';

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Outputs whose URL no server answers: any upload attempt fails with a store error. */
const nowhere = (...names: string[]) => ({
  store: { bucket: 'b', endpoint: 'http://127.0.0.1:9' },
  files: names.map((name) => ({ name, key: `k/${name}`, url: `http://127.0.0.1:9/b/k/${name}` })),
});

async function folder(): Promise<string> {
  const dir = await makeOutputsFolder();
  made.push(dir);
  return dir;
}

describe('stage outputs', () => {
  it('puts the folder into argv words after the program, wherever {{outputs}} stands', () => {
    expect(withOutputsFolder(['-o', '{{outputs}}/a.csv', 'x{{outputs}}{{outputs}}'], '/o')).toEqual(
      ['-o', '/o/a.csv', 'x/o/o'],
    );
  });

  it('refuses a missing file, a symlink and a folder before reading or uploading anything', async () => {
    const dir = await folder();
    symlinkSync('/etc/hostname', join(dir, 'link'));
    mkdirSync(join(dir, 'sub'));
    expect(await uploadOutputs(dir, nowhere('absent'))).toBe(
      'the stage declares output "absent" but wrote no $TM_OUTPUTS/absent',
    );
    expect(await uploadOutputs(dir, nowhere('link'))).toBe(
      'output "link" is not a regular file (a symlink or folder is never followed)',
    );
    expect(await uploadOutputs(dir, nowhere('sub'))).toMatch(/"sub" is not a regular file/);
  });

  it('says why an upload failed, without the signed URL', async () => {
    const dir = await folder();
    writeFileSync(join(dir, 'ok.txt'), 'data');
    const message = await uploadOutputs(dir, nowhere('ok.txt'));
    expect(message).toMatch(/^cannot upload the stage's outputs: /);
    expect(message).not.toContain('http://127.0.0.1:9/b/k/ok.txt');
  });
});
