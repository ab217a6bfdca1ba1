/** Runs the Python client's unittest suites with python3, as the e2e tests do. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../cli/local/repo.ts';

/**
 * Runs `python3 -m unittest discover` over clients/python/tests (only files matching `pattern`
 * when given) with `env` added; returns its exit code and everything it printed.
 */
export function runPythonTests(
  env: Record<string, string>,
  pattern?: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const args = ['-m', 'unittest', 'discover', '-v', '-s', join('clients', 'python', 'tests')];
    const child = spawn('python3', pattern ? [...args, '-p', pattern] : args, {
      cwd: repoRoot,
      env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
